/**
 * A refusal the client may simply send again later (a limit reached, an attempt still under
 * way): answered with `status` and a Retry-After header. Nothing was stored or started.
 */
export abstract class RetryLaterError extends Error {
  abstract readonly status: number;
  abstract readonly retryAfterSeconds: number;
}
