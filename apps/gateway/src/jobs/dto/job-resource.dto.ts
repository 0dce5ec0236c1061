import { ApiProperty } from '@nestjs/swagger';
import { JobKind, JobStatus } from '@flansible/contracts';

/** What a job runs, without the values of its extra vars (they may hold secrets). */
export class JobRequestDto {
  host_pattern?: string;
  module?: string;
  /**
   * Module arguments as submitted, for the submitter and admins. Other readers (users of the same
   * inventory) see the names only, every value replaced by `<hidden>`: an object's keys map to
   * "<hidden>", a string keeps its `key=<hidden>` words and shows any free-form text (a command
   * line) as one `<hidden>`.
   */
  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] })
  module_args?: string | Record<string, unknown>;
  playbook_dir?: string;
  playbook?: string;
  /** Real path of the inventory. */
  inventory?: string;
  /** Names of the extra vars given (not their values). */
  extra_var_names?: string[];
  limit?: string;
  /** A relaunch's hosts: exact names from the job it repeats, within `limit`. */
  limit_hosts?: string[];
  tags?: string[];
  skip_tags?: string[];
  check?: boolean;
  diff?: boolean;
  become?: boolean;
  forks?: number;
  verbose_level?: number;
  remote_name?: string;
  branch_name?: string;
  reset?: boolean;
  update_git_repo?: boolean;
  /** Seconds the job may run. */
  timeout?: number;
}

/** A job: who, what, when, where and how it ended. */
export class JobResourceDto {
  id!: string;
  @ApiProperty({ enum: ['command', 'playbook', 'git'] })
  kind!: JobKind;
  @ApiProperty({ enum: ['queued', 'running', 'successful', 'failed', 'canceled', 'timed_out', 'error'] })
  status!: JobStatus;
  /** One-line reason for every non-successful end. */
  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;
  /** Ansible's exit code once it has exited. */
  @ApiProperty({ type: Number, nullable: true })
  return_code!: number | null;
  /** User who submitted it. */
  submitted_by!: string;
  @ApiProperty({ type: String, nullable: true })
  inventory!: string | null;
  priority!: number;
  request!: JobRequestDto;
  /** ISO 8601 times. */
  created_at!: string;
  @ApiProperty({ type: String, nullable: true })
  started_at!: string | null;
  @ApiProperty({ type: String, nullable: true })
  finished_at!: string | null;
  /** Seconds from start to end (or to now while running). */
  @ApiProperty({ type: Number, nullable: true })
  duration_seconds!: number | null;
  /** Runner that ran it: host:pid:instance. */
  @ApiProperty({ type: String, nullable: true })
  runner!: string | null;
  /** The submitting request's id (its X-Request-Id, or one the gateway made): in every log line about the job. */
  @ApiProperty({ type: String, nullable: true })
  request_id!: string | null;
  /** The job this one relaunches (POST /api/v1/jobs/{id}/relaunch); null for any other job. */
  @ApiProperty({ type: String, nullable: true })
  relaunch_of!: string | null;
  /**
   * How the job's Ansible started: `warm` (forked from a runner's interpreter that had imported
   * Ansible already) or `cold` (a new process). Null until the job finished.
   */
  @ApiProperty({ type: String, enum: ['warm', 'cold'], nullable: true })
  launch_path!: 'warm' | 'cold' | null;
  /** Set while a cancel request waits for the runner. */
  @ApiProperty({ type: String, nullable: true })
  cancel_requested_at!: string | null;
  output_lines!: number;
  event_count!: number;
  /** This resource. */
  url!: string;
}

/** One page of history. */
export class JobPageDto {
  items!: JobResourceDto[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  @ApiProperty({ type: String, nullable: true })
  next_cursor!: string | null;
  /** The next page's URL, or null. */
  @ApiProperty({ type: String, nullable: true })
  next!: string | null;
}
