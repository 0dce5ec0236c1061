import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';

/** What the SDK sends: credentials, JSON, its idempotency and stream-resume headers, a request id. */
const REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'X-Request-Id'];
/** What a page may read beyond the CORS-safelisted headers: where a new job lives, the request id, when to retry. */
const EXPOSED_HEADERS = ['Location', 'X-Request-Id', 'Retry-After'];
/** How long a browser may reuse a preflight answer (Chromium caps it at 2 hours). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for the browser pages of `cors_origins`: they may call the API with credentials; any other
 * origin gets no CORS header at all (so its page can neither read an answer nor pass a preflight).
 * Null when no origin is configured: then the gateway sends no CORS header anywhere.
 */
export function corsPolicy(origins: readonly string[]): CorsOptions | null {
  if (origins.length === 0) return null;
  const allowed = new Set(origins);
  return {
    // The Origin header compared exactly; the answer then names that origin (and varies on Origin).
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: REQUEST_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  };
}
