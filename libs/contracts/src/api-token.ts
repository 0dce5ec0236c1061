/**
 * What an API token may do. `read` only reads (jobs, output, events, streams, its user's tokens);
 * `run` may also change things (submit, cancel, git updates, tokens) within its user's rights.
 */
export const ApiTokenScope = {
  Read: 'read',
  Run: 'run',
} as const;
export type ApiTokenScope = (typeof ApiTokenScope)[keyof typeof ApiTokenScope];

export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = Object.values(ApiTokenScope);
