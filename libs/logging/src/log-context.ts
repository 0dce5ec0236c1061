import { AsyncLocalStorage } from 'node:async_hooks';

/** What a log line is about, where it applies: the HTTP request, the job, the runner. */
export interface LogFields {
  requestId?: string;
  jobId?: string;
  runner?: string;
}

const storage = new AsyncLocalStorage<LogFields>();

/**
 * Every log line written while `fn` runs (and in what it awaits) carries `fields`, added to those
 * already in effect: one id is then greppable across gateway and runner logs.
 */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** The fields in effect here (empty outside any). */
export function currentLogFields(): LogFields {
  return storage.getStore() ?? {};
}
