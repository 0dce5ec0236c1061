import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { RbacService } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { SQLITE_FILE_NAME } from '@flansible/store';
import { eventually, gate, ReceivedWebhook, WebhookReceiver } from '@flansible/testing';
import { createTestGateway, TestGateway, TEST_USERS } from '../testing/create-test-gateway';
import { ResolvedAddress, WebhookResolver } from './target/webhook-resolver';

jest.setTimeout(30_000);

const { admin, devadmin } = TEST_USERS;
type As = { user: string; password: string };

/** The system resolver, except for the names a spec answers for itself (a name whose DNS answer changes). */
class ScriptedResolver extends WebhookResolver {
  readonly answers = new Map<string, ResolvedAddress[]>();
  override resolve(host: string): Promise<ResolvedAddress[]> {
    return Promise.resolve(this.answers.get(host) ?? super.resolve(host));
  }
}

/**
 * Delivery end to end in one process: the embedded gateway (no runner: jobs are ended by
 * canceling them while queued, which is a job.finished like any other), its dispatcher, and a real
 * HTTP receiver on loopback that verifies every signature with standardwebhooks' Webhook.verify.
 */
describe('webhook delivery (in-process, a real receiver on loopback)', () => {
  let gateway: TestGateway;
  let receiver: WebhookReceiver;
  const resolver = new ScriptedResolver();

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    gateway = await createTestGateway({
      env: {
        FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        FLANSIBLE_WEBHOOK_MAX_ATTEMPTS: '3',
        FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS: '150',
        FLANSIBLE_WEBHOOK_TIMEOUT_MS: '1000',
        FLANSIBLE_WEBHOOK_POLL_INTERVAL_MS: '50',
      },
      overrides: [{ provide: WebhookResolver, useValue: resolver }],
    });
  });
  afterAll(async () => {
    await gateway.close();
    await receiver.stop();
  });

  const subscribe = async (as: As, path: string, url = `${receiver.url}${path}`) => {
    const res = await gateway.http.post('/api/v1/webhooks').auth(as.user, as.password).send({ url, events: ['job.finished'] });
    expect(res.status).toBe(201);
    receiver.verifyWith(path, res.body.secret);
    return res.body as { id: string; secret: string };
  };
  /** A job that ends at once: submitted (it stays queued: no runner here), then canceled. */
  const finishedJob = async (inventory = 'localhost', extra: object = {}) => {
    const submitted = await gateway.http
      .post('/api/v1/jobs/command')
      .auth(admin.user, admin.password)
      .send({ host_pattern: 'all', module: 'ping', inventory, ...extra });
    expect(submitted.status).toBe(202);
    expect((await gateway.http.post(`/api/v1/jobs/${submitted.body.id}/cancel`).auth(admin.user, admin.password)).status).toBe(202);
    return submitted.body.id as string;
  };
  const attempts = async (id: string) => (await gateway.http.get(`/api/v1/webhooks/${id}/deliveries`).auth(admin.user, admin.password)).body.items;
  const arrived = (path: string, n: number) => eventually(() => receiver.on(path).length >= n && receiver.on(path), `${n} deliveries on ${path}`);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

  it('signs job.finished the Standard Webhooks way; the body is the job resource as GET answers it, without extra-var values', async () => {
    const webhook = await subscribe(admin, '/signed');
    const jobId = await finishedJob('localhost', { extra_vars: { api_token: 'hunter2-secret' } });
    const [delivery] = await arrived('/signed', 1);

    expect(delivery.verifyError).toBeNull();
    expect(delivery.headers).toMatchObject({
      'webhook-id': expect.stringMatching(/^msg_[A-Za-z0-9_-]{32}$/),
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
      'content-type': 'application/json',
    });
    expect(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    const job = (await gateway.http.get(`/api/v1/jobs/${jobId}`).auth(admin.user, admin.password)).body;
    expect(delivery.payload).toEqual({ type: 'job.finished', timestamp: job.finished_at, data: job });
    expect(job).toMatchObject({ status: 'canceled', request: { extra_var_names: ['api_token'] } });
    expect(delivery.body).not.toContain('hunter2-secret');
    // The receiver's check is real: another secret, or one changed byte, does not verify.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(delivery.body, delivery.headers)).toThrow();
    expect(() => new Webhook(webhook.secret).verify(delivery.body.replace('canceled', 'cancelec'), delivery.headers)).toThrow();

    await eventually(async () => (await attempts(webhook.id)).length === 1, 'the attempt to be recorded');
    expect(await attempts(webhook.id)).toEqual([
      {
        webhook_id: delivery.headers['webhook-id'],
        type: 'job.finished',
        job_id: jobId,
        attempt: 1,
        attempted_at: expect.any(String),
        status_code: 204,
        error: null,
        duration_ms: expect.any(Number),
      },
    ]);
  });

  it('retries after a 500 with the same webhook-id and body, and lists both attempts', async () => {
    const webhook = await subscribe(admin, '/flaky');
    receiver.answer = (r) => (r.path === '/flaky' && receiver.on('/flaky').length === 1 ? 500 : 204);
    await finishedJob();
    const [first, second] = await arrived('/flaky', 2);
    expect([first.status, second.status]).toEqual([500, 204]);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    expect([first.verifyError, second.verifyError]).toEqual([null, null]);
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(150);
    await eventually(async () => (await attempts(webhook.id)).length === 2, 'both attempts to be recorded');
    expect((await attempts(webhook.id)).map((a: { attempt: number; status_code: number; error: string }) => [a.attempt, a.status_code, a.error])).toEqual([
      [2, 204, null],
      [1, 500, 'HTTP 500'],
    ]);
    await settle();
    expect(receiver.on('/flaky')).toHaveLength(2);
  });

  it('gives up after webhook_max_attempts, and does not follow a redirect', async () => {
    const webhook = await subscribe(admin, '/moved');
    receiver.answer = (r) => (r.path === '/moved' ? 302 : 204);
    await finishedJob();
    await arrived('/moved', 3);
    await eventually(async () => (await attempts(webhook.id)).length === 3, 'three attempts to be recorded');
    await settle();
    expect(receiver.on('/moved')).toHaveLength(3);
    expect((await attempts(webhook.id))[0]).toMatchObject({ attempt: 3, status_code: 302, error: 'HTTP 302 (redirects are not followed)' });
  });

  it('counts a receiver that does not answer within webhook_timeout_ms as failed, and tries again', async () => {
    const webhook = await subscribe(admin, '/slow');
    receiver.delayMs = 1500;
    try {
      await finishedJob();
      await eventually(async () => (await attempts(webhook.id)).length >= 1, 'the timed-out attempt', 10_000);
    } finally {
      receiver.delayMs = 0;
    }
    const [timedOut] = await attempts(webhook.id);
    expect(timedOut).toMatchObject({ attempt: 1, status_code: null, error: 'no answer within 1 s' });
    expect(timedOut.duration_ms).toBeGreaterThanOrEqual(950);
    await eventually(async () => (await attempts(webhook.id))[0]?.status_code === 204, 'the retry to be delivered', 10_000);
  });

  it("sends a user only the jobs they may read, as rbac.json says at each attempt, with the job as they may see it", async () => {
    const webhook = await subscribe(devadmin, '/dev');
    receiver.answer = (r) => (r.path === '/dev' ? 503 : 204);
    // The first attempt's 503 is held back until rbac.json has changed, so its retry (150 ms after
    // the answer) cannot run before the new rights are loaded, however loaded the machine is.
    const held = gate();
    receiver.hold = held.wait;
    const config = gateway.app.get(FlansibleConfig);
    const original = readFileSync(config.rbacFile, 'utf8');
    try {
      await finishedJob('prod');
      const devJob = await finishedJob('dev', { module_args: { data: 'pong-secret' } });
      const [first] = await arrived('/dev', 1);
      expect(first.payload).toMatchObject({ type: 'job.finished', data: { id: devJob, inventory: expect.stringMatching(/dev$/), request: { module_args: { data: '<hidden>' } } } });
      expect(first.body).not.toContain('pong-secret');

      // devadmin loses `dev` while the delivery waits for its retry: the retry is not sent.
      const rbac = JSON.parse(original);
      rbac.rbac.find((u: { user: string }) => u.user === 'devadmin').inventories = [];
      writeFileSync(config.rbacFile, JSON.stringify(rbac));
      // Within the held attempt (its 1 s time limit), not whenever the watcher sees the write.
      await gateway.app.get(RbacService).reload();
      await eventually(async () => (await gateway.http.get(`/api/v1/jobs/${devJob}`).auth(devadmin.user, devadmin.password)).status === 404, 'the reload');
      receiver.hold = null;
      held.release();
      receiver.answer = () => 204;
      await settle();
      expect(receiver.on('/dev').map((r: ReceivedWebhook) => (r.payload as { data: { id: string } }).data.id)).toEqual([devJob]);
      expect(await attempts(webhook.id)).toHaveLength(1);
    } finally {
      receiver.hold = null;
      held.release();
      writeFileSync(config.rbacFile, original);
    }
  });

  it('resolves the host again for every attempt and connects only to the address it checked', async () => {
    const { port } = new URL(receiver.url);
    resolver.answers.set('hooks.flip.test', [{ address: '127.0.0.1', family: 4 }]);
    const webhook = await subscribe(admin, '/flip', `http://hooks.flip.test:${port}/flip`);
    // Now the name points at a private address: the attempt goes nowhere.
    resolver.answers.set('hooks.flip.test', [{ address: '10.0.0.1', family: 4 }]);
    await finishedJob();
    await eventually(async () => (await attempts(webhook.id)).length === 1, 'the refused attempt');
    expect((await attempts(webhook.id))[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/hooks\.flip\.test resolves to a private address/) });
    expect(receiver.on('/flip')).toEqual([]);
    // Back on loopback: delivered, to the address checked (no DNS server knows this name), Host header kept.
    resolver.answers.set('hooks.flip.test', [{ address: '127.0.0.1', family: 4 }]);
    const [delivery] = await arrived('/flip', 1);
    expect(delivery).toMatchObject({ verifyError: null, headers: expect.objectContaining({ host: `hooks.flip.test:${port}` }) });
  });

  it('sends nothing more for a deleted subscription', async () => {
    const webhook = await subscribe(admin, '/deleted');
    receiver.answer = (r) => (r.path === '/deleted' ? 500 : 204);
    await finishedJob();
    await arrived('/deleted', 1);
    expect((await gateway.http.delete(`/api/v1/webhooks/${webhook.id}`).auth(admin.user, admin.password)).status).toBe(204);
    await settle();
    expect(receiver.on('/deleted')).toHaveLength(1);
  });
});

describe('a stopping gateway and its webhook attempts in flight', () => {
  it('aborts them and hands their deliveries back, due at once, for the next gateway', async () => {
    const receiver = await WebhookReceiver.start();
    receiver.delayMs = 20_000;
    const gateway = await createTestGateway({ env: { FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', FLANSIBLE_WEBHOOK_POLL_INTERVAL_MS: '50' } });
    const { dataDir } = gateway.app.get(FlansibleConfig);
    try {
      const webhook = await gateway.http.post('/api/v1/webhooks').auth(admin.user, admin.password).send({ url: `${receiver.url}/held`, events: ['job.finished'] });
      const job = await gateway.http.post('/api/v1/jobs/command').auth(admin.user, admin.password).send({ host_pattern: 'all', module: 'ping' });
      await gateway.http.post(`/api/v1/jobs/${job.body.id}/cancel`).auth(admin.user, admin.password);
      await eventually(() => receiver.on('/held').length === 1, 'the attempt to reach the receiver');
      const stopping = Date.now();
      await gateway.app.close();
      expect(Date.now() - stopping).toBeLessThan(5_000);
      const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
      try {
        const row = db.prepare('SELECT state, attempts, lease_token, next_attempt_at FROM webhook_deliveries WHERE subscription_id = ?').get(webhook.body.id) as {
          state: string;
          attempts: number;
          lease_token: string | null;
          next_attempt_at: number;
        };
        expect(row).toMatchObject({ state: 'pending', attempts: 0, lease_token: null });
        expect(row.next_attempt_at).toBeLessThanOrEqual(Date.now());
      } finally {
        db.close();
      }
    } finally {
      await gateway.close();
      await receiver.stop();
    }
  });
});
