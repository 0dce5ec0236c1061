/**
 * @flansible/sdk: a typed client for Flansible, generated from its OpenAPI document
 * (openapi-typescript + openapi-fetch), with a hand-written layer for the common flows.
 * Runs in Node 20+ and browsers: only fetch, streams, TextEncoder/TextDecoder and AbortController.
 */
export { createFlansibleClient, FlansibleClient } from './client';
export type { CallOptions, FlansibleClientOptions } from './client';
export { FlansibleApiError, FlansibleStreamError, FlansibleTimeoutError, isFlansibleApiError } from './errors';
export { followJobStream } from './follow-job';
export type { OpenJobStream } from './follow-job';
export { basicAuthorization } from './basic-auth';
export * from './types';
export type { components, operations, paths } from './generated/openapi';
