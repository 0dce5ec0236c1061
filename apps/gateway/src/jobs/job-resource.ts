import { JobEvent, JobKind, JobSpec } from '@flansible/contracts';
import { JobRecord } from '@flansible/store';
import { JobEventDto } from './dto/job-events.dto';
import { JobRequestDto, JobResourceDto } from './dto/job-resource.dto';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The request side of a job, in the API's field names; extra vars by name only. */
function requestOf(spec: JobSpec): JobRequestDto {
  if (spec.kind === JobKind.Git) {
    return { playbook_dir: spec.repoDir, remote_name: spec.remote, branch_name: spec.branch, reset: spec.reset, timeout: spec.timeoutSeconds };
  }
  const shared: JobRequestDto = {
    inventory: spec.inventoryPath,
    extra_var_names: spec.extraVars ? Object.keys(spec.extraVars) : undefined,
    limit: spec.limit,
    check: spec.check,
    diff: spec.diff,
    become: spec.become,
    forks: spec.forks,
    verbose_level: spec.verboseLevel,
    timeout: spec.timeoutSeconds,
  };
  return spec.kind === JobKind.Command
    ? { host_pattern: spec.hostPattern, module: spec.module, module_args: spec.moduleArgs, ...shared }
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

export function toJobResource(job: JobRecord, now = new Date()): JobResourceDto {
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
    request: requestOf(job.spec),
    created_at: job.createdAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    duration_seconds: job.startedAt && end ? (end.getTime() - job.startedAt.getTime()) / 1000 : null,
    runner: job.runnerId,
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
