import { JobEvent, JobKind, JobSpec } from '@flansible/contracts';
import { JobRecord } from '@flansible/store';
import { JobEventDto } from './dto/job-events.dto';
import { JobRequestDto, JobResourceDto } from './dto/job-resource.dto';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What one viewer may see of a job's request. */
export interface JobResourceView {
  /** False for readers other than the submitter and admins: module_args values are hidden. */
  showArgumentValues: boolean;
}

/** Stands in for every hidden value. */
export const HIDDEN_VALUE = '<hidden>';

/**
 * Module arguments with their values hidden, names kept: an object's keys map to HIDDEN_VALUE;
 * a string keeps the keys of its key=value words (`dest=<hidden> src=<hidden>`), and its
 * free-form words (a command line, which may hold a password too) become one HIDDEN_VALUE.
 */
export function hideArgumentValues(args: string | Record<string, unknown>): string | Record<string, unknown> {
  if (typeof args !== 'string') return Object.fromEntries(Object.keys(args).map((key) => [key, HIDDEN_VALUE]));
  const parts: string[] = [];
  // Words as Ansible splits them: whitespace outside quotes (a quoted value may hold spaces).
  for (const word of args.match(/(?:[^\s"']|"(?:[^"\\]|\\.)*"?|'[^']*'?)+/g) ?? []) {
    const key = /^([A-Za-z_]\w*)=/.exec(word)?.[1];
    const part = key === undefined ? HIDDEN_VALUE : `${key}=${HIDDEN_VALUE}`;
    if (part !== HIDDEN_VALUE || parts[parts.length - 1] !== HIDDEN_VALUE) parts.push(part);
  }
  return parts.join(' ');
}

/** The request side of a job, in the API's field names; extra vars by name only. */
function requestOf(spec: JobSpec, view: JobResourceView): JobRequestDto {
  if (spec.kind === JobKind.Git) {
    return { playbook_dir: spec.repoDir, remote_name: spec.remote, branch_name: spec.branch, reset: spec.reset, timeout: spec.timeoutSeconds };
  }
  const shared: JobRequestDto = {
    inventory: spec.inventoryPath,
    extra_var_names: spec.extraVars ? Object.keys(spec.extraVars) : undefined,
    limit: spec.limit,
    limit_hosts: spec.limitHosts,
    check: spec.check,
    diff: spec.diff,
    become: spec.become,
    forks: spec.forks,
    verbose_level: spec.verboseLevel,
    timeout: spec.timeoutSeconds,
  };
  return spec.kind === JobKind.Command
    ? {
        host_pattern: spec.hostPattern,
        module: spec.module,
        module_args: spec.moduleArgs === undefined || view.showArgumentValues ? spec.moduleArgs : hideArgumentValues(spec.moduleArgs),
        ...shared,
      }
    : {
        playbook_dir: spec.playbookDir,
        playbook: spec.playbookPath,
        tags: spec.tags,
        skip_tags: spec.skipTags,
        update_git_repo: spec.updateGitRepo,
        ...shared,
      };
}

export function jobUrl(id: string): string {
  return `/api/v1/jobs/${id}`;
}

/** The job as `view` allows its viewer to see it (see JobQueryService.toResource). */
export function toJobResource(job: JobRecord, view: JobResourceView, now = new Date()): JobResourceDto {
  const end = job.finishedAt ?? (job.startedAt ? now : null);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    reason: job.reason,
    return_code: job.returnCode,
    submitted_by: job.submittedBy,
    inventory: job.inventory,
    priority: job.priority,
    request: requestOf(job.spec, view),
    created_at: job.createdAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    duration_seconds: job.startedAt && end ? (end.getTime() - job.startedAt.getTime()) / 1000 : null,
    runner: job.runnerId,
    request_id: job.requestId,
    relaunch_of: job.relaunchOf,
    launch_path: job.launchPath,
    cancel_requested_at: iso(job.cancelRequestedAt),
    output_lines: job.outputLines,
    event_count: job.eventCount,
    url: jobUrl(job.id),
  };
}

export function toJobEvent(event: JobEvent): JobEventDto {
  return {
    counter: event.counter,
    type: event.type,
    host: event.host,
    task: event.task,
    data: event.data,
    created_at: event.createdAt.toISOString(),
  };
}
