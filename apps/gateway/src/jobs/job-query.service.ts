import { Injectable, NotFoundException } from '@nestjs/common';
import { FlansibleTaskStatus, JobStatus, toFlansibleTaskStatus } from '@flansible/contracts';
import { JobRecord, JobStore } from '@flansible/store';
import { TaskStatusDto } from './dto/task-responses.dto';

const PROGRESS_DESCRIPTIONS: Partial<Record<JobStatus, string>> = {
  [JobStatus.Queued]: 'Task is queued, waiting for a runner',
  [JobStatus.Running]: 'Task is currently running',
};

/** Reads jobs back for the status and output endpoints. */
@Injectable()
export class JobQueryService {
  constructor(private readonly store: JobStore) {}

  async getJob(id: string): Promise<JobRecord> {
    const job = await this.store.findJob(id);
    if (!job) throw new NotFoundException('Task not found');
    return job;
  }

  async getFlansibleStatus(id: string): Promise<TaskStatusDto> {
    const job = await this.getJob(id);
    const Status = toFlansibleTaskStatus(job.status);
    const description =
      Status === FlansibleTaskStatus.Progress
        ? (PROGRESS_DESCRIPTIONS[job.status] ?? '')
        : Status === FlansibleTaskStatus.Success
          ? ''
          : (job.reason ?? `Task ended with status ${job.status}`);
    return { Status, description, returncode: job.returnCode };
  }

  async getOutput(id: string): Promise<string> {
    await this.getJob(id);
    return this.store.readOutput(id);
  }
}
