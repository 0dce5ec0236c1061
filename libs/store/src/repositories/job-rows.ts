import { JobEvent, JobEventType, JobKind, JobSpec, JobStatus, LaunchPath, TERMINAL_JOB_STATUSES } from '@flansible/contracts';
import { Selectable } from 'kysely';
import { JobRecord } from '../job-records';
import { JobEventsTable, JobsTable } from '../store-database';

/** States a job may still leave; everything else is terminal and final. */
export const OPEN_STATUSES: JobStatus[] = [JobStatus.Queued, JobStatus.Running];
export const FINAL_STATUSES: JobStatus[] = [...TERMINAL_JOB_STATUSES];

/**
 * PostgreSQL rejects NUL in text, and a command's output can contain one. Replace it in both
 * dialects so the two stores hold the same thing.
 */
export function storableText(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
}

export function storableOrNull(text: string | null): string | null {
  return text === null ? null : storableText(text);
}

export function toDate(value: number | string | null): Date | null {
  return value === null ? null : new Date(Number(value));
}

export function toRecord(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    kind: row.kind as JobKind,
    status: row.status as JobStatus,
    reason: row.reason,
    returnCode: row.return_code,
    submittedBy: row.submitted_by,
    inventory: row.inventory,
    spec: JSON.parse(row.spec) as JobSpec,
    runnerId: row.runner_id,
    createdAt: new Date(Number(row.created_at)),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    priority: Number(row.priority),
    cancelRequestedAt: toDate(row.cancel_requested_at),
    cancelReason: row.cancel_reason ?? null,
    requestId: row.request_id ?? null,
    relaunchOf: row.relaunch_of ?? null,
    launchPath: row.launch_path === LaunchPath.Warm || row.launch_path === LaunchPath.Cold ? row.launch_path : null,
    outputLines: Number(row.output_lines),
    eventCount: Number(row.event_count),
  };
}

export function toEvent(row: Selectable<JobEventsTable>): JobEvent {
  return {
    counter: Number(row.counter),
    type: row.type as JobEventType,
    host: row.host,
    task: row.task,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: new Date(Number(row.created_at)),
  };
}
