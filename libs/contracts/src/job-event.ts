/**
 * Structured events from the callback plugin shipped with the runner
 * (libs/execution/ansible/callback_plugins/flansible_events.py), one per Ansible callback.
 */
export const JobEventType = {
  PlaybookStart: 'playbook_start',
  PlayStart: 'play_start',
  TaskStart: 'task_start',
  HostOk: 'host_ok',
  HostFailed: 'host_failed',
  HostSkipped: 'host_skipped',
  HostUnreachable: 'host_unreachable',
  ItemOk: 'item_ok',
  ItemFailed: 'item_failed',
  ItemSkipped: 'item_skipped',
  Stats: 'stats',
} as const;
export type JobEventType = (typeof JobEventType)[keyof typeof JobEventType];

/** An event as the runner records it; the store numbers them. */
export interface NewJobEvent {
  type: JobEventType;
  host: string | null;
  task: string | null;
  /** Event details: changed, msg, rc, item, the stats per host, ... */
  data: Record<string, unknown>;
  createdAt: Date;
}

export interface JobEvent extends NewJobEvent {
  /** 1, 2, 3 ... per job, in the order the runner recorded them. */
  counter: number;
}

/** Per-host totals, as Ansible's final stats count them. */
export interface HostSummary {
  host: string;
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

/** "Job X has something new": sent on the notice bus after the store has it. */
export interface JobNotice {
  jobId: string;
  what: 'output' | 'events' | 'status';
}
