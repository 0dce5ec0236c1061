import type { ErrorBody } from './types';

/**
 * The server answered with an error status. Carries its error body
 * (`{statusCode, error, message, details?}`), or one made up from the status when the answer
 * was not Flansible's JSON (e.g. a proxy's HTML page).
 */
export class FlansibleApiError extends Error {
  override readonly name = 'FlansibleApiError';
  /** HTTP status, e.g. 400, 401, 403, 404, 429, 503. */
  readonly status: number;
  readonly body: ErrorBody;
  /** Every problem, when there were several (e.g. each invalid field); else empty. */
  readonly details: string[];
  /** Seconds the server asked to wait (Retry-After on 429 and 503), else null. */
  readonly retryAfterSeconds: number | null;
  readonly method: string;
  readonly url: string;

  constructor(init: { status: number; body: ErrorBody; method: string; url: string; retryAfterSeconds?: number | null }) {
    super(`${init.method} ${pathOf(init.url)} answered ${init.status} ${init.body.error}: ${init.body.message}`);
    this.status = init.status;
    this.body = init.body;
    this.details = init.body.details ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
    this.method = init.method;
    this.url = init.url;
  }

  /** Builds the error from a failed answer and its body (already read: parsed JSON or text). */
  static fromResponse(response: Response, body: unknown, method: string, url = response.url): FlansibleApiError {
    const retryAfter = Number(response.headers.get('retry-after') ?? NaN);
    return new FlansibleApiError({
      status: response.status,
      body: isErrorBody(body) ? body : fallbackBody(response, body),
      method,
      url,
      retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : null,
    });
  }
}

/** A wait (waitForTask, waitForJob) ran out of time before the job ended. */
export class FlansibleTimeoutError extends Error {
  override readonly name = 'FlansibleTimeoutError';

  constructor(
    message: string,
    /** The last state seen. */
    readonly last: unknown,
  ) {
    super(message);
  }
}

/** followJob gave up: the stream kept failing without delivering anything. */
export class FlansibleStreamError extends Error {
  override readonly name = 'FlansibleStreamError';

  constructor(
    message: string,
    /** Where a later followJob can resume from. */
    readonly lastEventId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a FlansibleApiError (optionally with this status), also across copies of the SDK. */
export function isFlansibleApiError(value: unknown, status?: number): value is FlansibleApiError {
  const isApiError =
    value instanceof FlansibleApiError || (value instanceof Error && value.name === 'FlansibleApiError' && 'status' in value);
  return isApiError && (status === undefined || (value as FlansibleApiError).status === status);
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.statusCode === 'number' && typeof candidate.error === 'string' && typeof candidate.message === 'string';
}

function fallbackBody(response: Response, body: unknown): ErrorBody {
  const text = typeof body === 'string' ? body.trim() : body === undefined ? '' : JSON.stringify(body);
  const firstLine = text.split('\n', 1)[0].slice(0, 200);
  const reason = response.statusText || `HTTP ${response.status}`;
  return { statusCode: response.status, error: reason, message: firstLine || reason };
}

function pathOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}
