import { HttpStatus, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { FlansibleConfig } from '@flansible/config';
import { CreatedJob } from '@flansible/store';
import { OneAtATime } from '../common/one-at-a-time';
import { RetryLaterError } from '../common/retry-later.error';

/** An Idempotency-Key and the request it came with. */
export interface IdempotentRequest {
  key: string;
  /** `<METHOD> <route> sha256:<digest of the body as canonical JSON>`: see requestFingerprint. */
  fingerprint: string;
}

/**
 * What a request asks for, as one string: method, route and a digest of its JSON body with the
 * keys of every object sorted, so the same request sent again matches whatever its key order,
 * and any change to what would run (a field, a value, the endpoint) does not. Keys are per user
 * already (the store's unique index is on user and key), so the user is not part of it.
 */
export function requestFingerprint(method: string, route: string, body: unknown): string {
  return `${method.toUpperCase()} ${route} sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

/** JSON.stringify with the keys of every object sorted. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const fields = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The method and route a fingerprint names (`POST /api/v1/jobs/command`). */
function endpointOf(fingerprint: string): string {
  return fingerprint.slice(0, fingerprint.lastIndexOf(' '));
}

/**
 * A gateway stops believing an unconfirmed attempt is still under way this long after its
 * publish deadline: the gateway that made it died mid-way, and the job it stored stays.
 */
const PENDING_GRACE_MS = 5_000;

/**
 * The key's first attempt is still under way on another gateway: answered 409 with Retry-After.
 * A second is enough most of the time: an attempt lasts as long as the broker takes to confirm.
 */
export class IdempotencyKeyInFlightError extends RetryLaterError {
  readonly status = HttpStatus.CONFLICT;
  readonly retryAfterSeconds = 1;

  constructor(key: string) {
    super(`Idempotency-Key ${key} is in use by a submission still under way; retry to get its outcome`);
  }
}

/**
 * Idempotency-Key rules: a key answers only the request it was first sent with (422 for any
 * other), a retry while the first attempt is under way waits for it on this gateway or gets 409
 * from another, and a first attempt that failed (its job deleted) leaves the key free.
 */
@Injectable()
export class IdempotencyService {
  /** Per user and key, one attempt at a time on this gateway. */
  private readonly perKey = new OneAtATime();

  constructor(private readonly config: FlansibleConfig) {}

  /** Runs `attempt` once every earlier attempt with this user's key on this gateway has settled. */
  oneAtATime<T>(user: string, request: IdempotentRequest, attempt: () => Promise<T>): Promise<T> {
    return this.perKey.run(`${user}\n${request.key}`, attempt);
  }

  /** Until when an attempt starting now counts as under way (the job's idempotencyPendingUntil). */
  pendingUntil(now: Date): Date {
    return new Date(now.getTime() + this.config.publishTimeoutMs + PENDING_GRACE_MS);
  }

  /**
   * Throws unless `earlier`, the job stored under the key, is the answer to this request: 422
   * when the key was sent with another request, 409 while the earlier attempt is under way.
   */
  checkEarlier(request: IdempotentRequest, earlier: CreatedJob, now: Date): void {
    // Jobs stored before fingerprints have none: they answer every retry, as they did then.
    const first = earlier.idempotencyFingerprint;
    if (first !== undefined && first !== request.fingerprint) {
      const endpoint = endpointOf(first);
      const which = endpoint === endpointOf(request.fingerprint) ? `${endpoint} with another body` : endpoint;
      throw new UnprocessableEntityException(
        `Idempotency-Key ${request.key} was used for a different request (${which}); send a new key for a new request`,
      );
    }
    const pendingUntil = earlier.idempotencyPendingUntil;
    if (pendingUntil !== undefined && pendingUntil > now) throw new IdempotencyKeyInFlightError(request.key);
  }
}
