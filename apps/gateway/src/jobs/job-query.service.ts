import { Injectable, NotFoundException } from '@nestjs/common';
import { AuthenticatedUser, JobPolicyService } from '@flansible/auth';
import { FlansibleTaskStatus, JobStatus, toFlansibleTaskStatus } from '@flansible/contracts';
import { JobRecord, JobStore } from '@flansible/store';
import { TaskStatusDto } from './dto/task-responses.dto';

const PROGRESS_DESCRIPTIONS: Partial<Record<JobStatus, string>> = {
  [JobStatus.Queued]: 'Task is queued, waiting for a runner',
  [JobStatus.Running]: 'Task is currently running',
};

/** Reads jobs back for the status and output endpoints, each only for users who may see it. */
@Injectable()
export class JobQueryService {
  constructor(
    private readonly store: JobStore,
    private readonly policy: JobPolicyService,
  ) {}

  /** A job the user may not read answers exactly as an unknown id does. */
  async getJob(user: AuthenticatedUser, id: string): Promise<JobRecord> {
    const job = await this.store.findJob(id);
    if (!job || !this.policy.canRead(user, { submittedBy: job.submittedBy, inventory: job.inventory })) {
      throw new NotFoundException('Task not found');
    }
    return job;
  }

  async getFlansibleStatus(user: AuthenticatedUser, id: string): Promise<TaskStatusDto> {
    const job = await this.getJob(user, id);
    const Status = toFlansibleTaskStatus(job.status);
    const description =
      Status === FlansibleTaskStatus.Progress
        ? (PROGRESS_DESCRIPTIONS[job.status] ?? '')
        : Status === FlansibleTaskStatus.Success
          ? ''
          : (job.reason ?? `Task ended with status ${job.status}`);
    return { Status, description, returncode: job.returnCode };
  }

  async getOutput(user: AuthenticatedUser, id: string): Promise<string> {
    await this.getJob(user, id);
    return this.store.readOutput(id);
  }
}
