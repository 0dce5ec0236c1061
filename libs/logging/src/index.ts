// Log lines with the request, job and runner they are about, as text or JSON.
export { FlansibleLogger } from './flansible-logger';
export type { LogFormat } from './flansible-logger';
export { withLogFields, currentLogFields } from './log-context';
export type { LogFields } from './log-context';
