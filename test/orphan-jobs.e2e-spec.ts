import { randomUUID } from 'node:crypto';
import { ApiClient, eventually } from './support/api-client';
import { Deployment } from './support/deployment';
import { FlansibleProcess, GATEWAY_MAIN, freePort } from './support/flansible-process';
import { blackHole } from './support/services';

jest.setTimeout(120_000);

const PING = { host_pattern: 'localhost', module: 'ping' };

/**
 * kill -9 of a gateway after it stored a job and before the broker confirmed its message (the
 * broker behind a black hole that accepts the connection and never answers): another gateway's
 * reconciler publishes the orphan, and the client's retry with the same Idempotency-Key answers
 * with that job, which runs.
 */
describe('a gateway killed between the insert and the broker confirm (distributed)', () => {
  // A short publish timeout: the reconciler takes a row unpublished for twice that long.
  const deployment = new Deployment('distributed', { runners: 1, env: { FLANSIBLE_PUBLISH_TIMEOUT_MS: '500' } });
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(() => deployment.boot());
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await deployment.stop();
  });

  it('publishes the job it left unpublished, and an idempotent retry answers with that job, which runs', async () => {
    const key = `orphan-${randomUUID()}`;
    const submit = (api: ApiClient) => api.request<{ id: string; status: string }>('POST', '/api/v1/jobs/command', { json: PING, headers: { 'Idempotency-Key': key }, timeoutMs: 60_000 });

    // A gateway whose broker accepts the connection and never answers: its publish hangs only
    // while its first connection attempt is under way (5 s; after that it knows the broker is
    // down and answers 503 at once, storing nothing). On a loaded machine its start-up can use
    // that window up, so a doomed gateway that answered before its row was seen is replaced.
    const startDoomed = async () => {
      const hole = await blackHole();
      cleanups.push(() => hole.close());
      const port = await freePort();
      const gateway = FlansibleProcess.start('gateway-black-hole', GATEWAY_MAIN, {
        ...deployment.env,
        FLANSIBLE_PORT: String(port),
        FLANSIBLE_AMQP_URL: `amqp://guest:guest@127.0.0.1:${hole.port}/${encodeURIComponent(deployment.vhost as string)}`,
        // Its publish would wait this long for a channel; it is killed long before. Its key stays
        // pending for this plus 5 s: the in-flight window a retry elsewhere answers 409 in.
        FLANSIBLE_PUBLISH_TIMEOUT_MS: '3000',
      });
      cleanups.push(() => gateway.kill());
      await gateway.waitForLog(/listening on http/);
      let answered = false;
      const unanswered = submit(new ApiClient(`http://127.0.0.1:${port}`)).then(
        () => ((answered = true), 'answered'),
        () => 'no answer',
      );
      // The row is in and its publish hangs on the black hole: kill -9 then.
      const { row } = await eventually(async () => {
        const rows = await deployment.storeSql<{ id: string; status: string }>('SELECT id, status FROM jobs WHERE idempotency_key = $1', [key]);
        if (rows.length > 0) return { row: rows[0] };
        return answered ? { row: null } : undefined;
      }, 'the job row');
      if (row === null) {
        await gateway.kill();
        return null;
      }
      return { gateway, row, unanswered };
    };
    let doomedRun: Awaited<ReturnType<typeof startDoomed>> = null;
    for (let attempt = 0; attempt < 3 && !doomedRun; attempt++) doomedRun = await startDoomed();
    if (!doomedRun) throw new Error('three gateways answered before their job row was seen: none kept its publish hanging');
    const { gateway: doomed, row: orphan, unanswered } = doomedRun;
    expect(orphan.status).toBe('queued');
    await doomed.kill();
    expect(await unanswered).toBe('no answer');
    expect(await deployment.storeSql('SELECT job_id FROM job_publications WHERE job_id = $1', [orphan.id])).toEqual([]);

    // The client retries on the live gateway: while the dead attempt's key is pending, 409 (retry
    // later); then the same job, not a new one, and it runs.
    const first = await submit(deployment.api);
    expect({ status: first.status, retryAfter: first.headers.get('retry-after') }).toEqual({ status: 409, retryAfter: '1' });
    const retry = await eventually(async () => {
      const res = await submit(deployment.api);
      return res.status === 409 ? undefined : res;
    }, 'the key to leave its in-flight window', 20_000) as Awaited<ReturnType<typeof submit>>;
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ id: orphan.id });
    expect(await deployment.api.sdk.waitForJob(orphan.id, { timeoutMs: 30_000, intervalMs: 100 })).toMatchObject({ status: 'successful' });
    await deployment.gateway.waitForLog(new RegExp(`Published job ${orphan.id}: stored [\\d.]+ s ago, its message was never confirmed`));
    expect(await deployment.storeSql('SELECT job_id FROM job_publications WHERE job_id = $1', [orphan.id])).toHaveLength(1);
    expect(await deployment.countJobs()).toBe(1);
  });
});
