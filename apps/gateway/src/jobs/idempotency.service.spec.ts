import { HttpStatus, UnprocessableEntityException } from '@nestjs/common';
import { configWith } from '@flansible/config';
import { canonicalJson, IdempotencyKeyInFlightError, IdempotencyService, requestFingerprint } from './idempotency.service';

describe('requestFingerprint', () => {
  it('is the same for the same request whatever its key order, and differs for anything that changes what runs', () => {
    const a = requestFingerprint('post', '/api/v1/jobs/command', { module: 'ping', host_pattern: 'all', module_args: { b: 1, a: [2, { d: 3, c: 4 }] } });
    const b = requestFingerprint('POST', '/api/v1/jobs/command', { module_args: { a: [2, { c: 4, d: 3 }], b: 1 }, host_pattern: 'all', module: 'ping' });
    expect(a).toBe(b);
    expect(a).toMatch(/^POST \/api\/v1\/jobs\/command sha256:[0-9a-f]{64}$/);
    for (const other of [
      requestFingerprint('POST', '/api/v1/jobs/playbook', { module: 'ping', host_pattern: 'all', module_args: { b: 1, a: [2, { d: 3, c: 4 }] } }),
      requestFingerprint('POST', '/api/v1/jobs/command', { module: 'ping', host_pattern: 'all', module_args: { b: 1, a: [{ d: 3, c: 4 }, 2] } }),
      requestFingerprint('POST', '/api/v1/jobs/command', { module: 'ping', host_pattern: 'all', module_args: { b: '1', a: [2, { d: 3, c: 4 }] } }),
      requestFingerprint('POST', '/api/v1/jobs/command', { module: 'ping', host_pattern: 'all', module_args: { b: 1, a: [2, { d: 3, c: 4 }] }, check: false }),
    ]) {
      expect(other).not.toBe(a);
    }
  });

  it('writes canonical JSON as JSON.stringify would, keys sorted', () => {
    const value = { z: [1, 'two', null, true], a: { y: 'ü"\n', x: 1.5 }, m: undefined };
    expect(canonicalJson(value)).toBe('{"a":{"x":1.5,"y":"ü\\"\\n"},"z":[1,"two",null,true]}');
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });
});

describe('IdempotencyService', () => {
  const service = new IdempotencyService(configWith({ publishTimeoutMs: 3000 }));
  const now = new Date('2030-01-01T00:00:00Z');
  const request = { key: 'deploy-x', fingerprint: requestFingerprint('POST', '/api/v1/jobs/playbook', { playbook: 'site.yml' }) };

  it('answers a retry of the same request with the earlier job once it is confirmed (or stored before fingerprints)', () => {
    expect(() => service.checkEarlier(request, { id: 'j1', created: false, idempotencyFingerprint: request.fingerprint }, now)).not.toThrow();
    expect(() => service.checkEarlier(request, { id: 'j1', created: false }, now)).not.toThrow();
    // A deadline passed: the gateway that made the attempt died, the job it stored stays.
    const passed = new Date(now.getTime() - 1);
    expect(() => service.checkEarlier(request, { id: 'j1', created: false, idempotencyFingerprint: request.fingerprint, idempotencyPendingUntil: passed }, now)).not.toThrow();
  });

  it('refuses the key for a different request with 422 naming the first one', () => {
    const otherBody = { id: 'j1', created: false, idempotencyFingerprint: requestFingerprint('POST', '/api/v1/jobs/playbook', { playbook: 'other.yml' }) };
    expect(() => service.checkEarlier(request, otherBody, now)).toThrow(UnprocessableEntityException);
    expect(() => service.checkEarlier(request, otherBody, now)).toThrow(
      'Idempotency-Key deploy-x was used for a different request (POST /api/v1/jobs/playbook with another body); send a new key for a new request',
    );
    const otherRoute = { id: 'j1', created: false, idempotencyFingerprint: requestFingerprint('POST', '/api/v1/jobs/command', { playbook: 'site.yml' }) };
    expect(() => service.checkEarlier(request, otherRoute, now)).toThrow(/used for a different request \(POST \/api\/v1\/jobs\/command\)/);
  });

  it('answers 409 with Retry-After while the earlier attempt is under way', () => {
    const pending = { id: 'j1', created: false, idempotencyFingerprint: request.fingerprint, idempotencyPendingUntil: service.pendingUntil(now) };
    expect(service.pendingUntil(now).getTime() - now.getTime()).toBeGreaterThan(3000);
    let refusal: unknown;
    try {
      service.checkEarlier(request, pending, now);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(IdempotencyKeyInFlightError);
    expect(refusal).toMatchObject({ status: HttpStatus.CONFLICT, retryAfterSeconds: 1, message: expect.stringMatching(/^Idempotency-Key deploy-x is in use/) });
  });

  it("runs one user's attempts with one key one at a time, and others side by side", async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = service.oneAtATime('alice', request, async () => {
      order.push('first start');
      await held;
      order.push('first end');
      throw new Error('publish failed');
    });
    const retry = service.oneAtATime('alice', request, async () => order.push('retry'));
    const bob = service.oneAtATime('bob', request, async () => order.push('bob'));
    await bob;
    expect(order).toEqual(['first start', 'bob']);
    release();
    await expect(first).rejects.toThrow('publish failed');
    await retry;
    expect(order).toEqual(['first start', 'bob', 'first end', 'retry']);
  });
});
