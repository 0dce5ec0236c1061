import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AuthenticatedUser, JobPolicyService } from '@flansible/auth';
import { FlansibleTaskStatus, JobStatus, StoreRange, isTerminalStatus, toFlansibleTaskStatus } from '@flansible/contracts';
import { GatewayJobStore, JobRecord } from '@flansible/store';
import { PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { EventPageDto, EventsQueryDto, JobSummaryDto } from './dto/job-events.dto';
import { MAX_OUTPUT_RANGE, OutputPageDto } from './dto/job-output.dto';
import { JobPageDto, JobResourceDto } from './dto/job-resource.dto';
import { ListJobsQueryDto } from './dto/list-jobs-query.dto';
import { TaskStatusDto } from './dto/task-responses.dto';
import { decodeJobListCursor, encodeJobListCursor } from './job-list-cursor';
import { jobUrl, toJobEvent, toJobResource } from './job-resource';

const PROGRESS_DESCRIPTIONS: Partial<Record<JobStatus, string>> = {
  [JobStatus.Queued]: 'Task is queued, waiting for a runner',
  [JobStatus.Running]: 'Task is currently running',
};

const DEFAULT_PAGE = 50;
const DEFAULT_OUTPUT_RANGE = 10_000;
const DEFAULT_EVENT_PAGE = 100;

/** Reads jobs back, each only for users who may see it. */
@Injectable()
export class JobQueryService {
  constructor(
    private readonly store: GatewayJobStore,
    private readonly policy: JobPolicyService,
    private readonly workspace: WorkspaceService,
  ) {}

  /** A job the user may not read answers exactly as an unknown id does. */
  async getJob(user: AuthenticatedUser, id: string): Promise<JobRecord> {
    const job = await this.store.findJob(id);
    if (!job || !this.policy.canRead(user, { submittedBy: job.submittedBy, inventory: job.inventory })) {
      throw new NotFoundException('Task not found');
    }
    return job;
  }

  async getJobResource(user: AuthenticatedUser, id: string): Promise<JobResourceDto> {
    return this.toResource(user, await this.getJob(user, id));
  }

  /** A job the user may read, as this user may see it: module_args values only for its submitter and admins. */
  toResource(user: AuthenticatedUser, job: JobRecord): JobResourceDto {
    return toJobResource(job, { showArgumentValues: this.policy.canSeeArguments(user, job) });
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

  async getOutputLines(user: AuthenticatedUser, id: string, start = 1, end?: number): Promise<OutputPageDto> {
    const job = await this.getJob(user, id);
    // The default end stays a line number the store's columns can hold.
    const last = end ?? Math.min(start + DEFAULT_OUTPUT_RANGE - 1, StoreRange.lineNumber.max);
    if (last < start) throw new BadRequestException('end_line must not be before start_line');
    if (last - start + 1 > MAX_OUTPUT_RANGE) throw new BadRequestException(`at most ${MAX_OUTPUT_RANGE} lines per request`);
    const page = await this.store.readOutputLines(id, start, last);
    return {
      start_line: page.from,
      end_line: page.from + page.lines.length - 1,
      total_lines: page.totalLines,
      lines: page.lines,
      complete: isTerminalStatus(job.status),
    };
  }

  async listJobs(user: AuthenticatedUser, query: ListJobsQueryDto): Promise<JobPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const jobs = await this.store.listJobs(
      {
        statuses: query.status,
        kind: query.kind,
        submittedBy: query.user,
        inventory: query.inventory === undefined ? undefined : this.inventoryPath(query.inventory),
        createdBefore: query.created_before,
        createdAfter: query.created_after,
        visibleTo: user.isAdmin ? undefined : { user: user.name, inventories: this.policy.readableInventories(user) },
      },
      limit,
      query.cursor ? decodeJobListCursor(query.cursor) : undefined,
    );
    const nextCursor = jobs.length === limit ? encodeJobListCursor(jobs[jobs.length - 1]) : null;
    const next = nextCursor ? this.nextPageUrl(query, nextCursor) : null;
    return { items: jobs.map((job) => this.toResource(user, job)), next_cursor: nextCursor, next };
  }

  async getEvents(user: AuthenticatedUser, id: string, query: EventsQueryDto): Promise<EventPageDto> {
    await this.getJob(user, id);
    const limit = query.limit ?? DEFAULT_EVENT_PAGE;
    const events = await this.store.readEvents(id, { after: query.after, limit, host: query.host, types: query.type });
    return {
      items: events.map(toJobEvent),
      next_after: events.length === limit ? events[events.length - 1].counter : null,
    };
  }

  async getSummary(user: AuthenticatedUser, id: string): Promise<JobSummaryDto> {
    const job = await this.getJob(user, id);
    return { job_id: id, status: job.status, hosts: await this.store.summarize(id) };
  }

  /** A history filter by inventory matches the real path, however the query spells it. */
  private inventoryPath(inventory: string): string {
    try {
      return this.workspace.locateInventory(inventory).path;
    } catch (err) {
      if (err instanceof PathOutsideRootError) return inventory; // matches nothing: jobs only run inside the root
      throw err;
    }
  }

  private nextPageUrl(query: ListJobsQueryDto, cursor: string): string {
    const params = new URLSearchParams();
    if (query.status?.length) params.set('status', query.status.join(','));
    if (query.kind) params.set('kind', query.kind);
    if (query.user) params.set('user', query.user);
    if (query.inventory) params.set('inventory', query.inventory);
    if (query.created_before) params.set('created_before', query.created_before.toISOString());
    if (query.created_after) params.set('created_after', query.created_after.toISOString());
    if (query.limit) params.set('limit', String(query.limit));
    params.set('cursor', cursor);
    return `${jobUrl('').replace(/\/$/, '')}?${params}`;
  }
}
