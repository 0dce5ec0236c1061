import { WebhookPayload } from '@flansible/sdk';
import { ReceivedWebhook, WebhookReceiver } from '@flansible/testing';
import { ApiClient, eventually } from '../support/api-client';
import { Deployment, DeploymentKind } from '../support/deployment';
import { FlansibleProcess, freePort, GATEWAY_MAIN } from '../support/flansible-process';

const payloadOf = (r: ReceivedWebhook) => r.payload as WebhookPayload;

/**
 * Signed webhooks on real processes, the same in both deployments: real jobs start and finish,
 * a real receiver on loopback verifies each delivery with standardwebhooks' Webhook.verify, and
 * no event is lost when the process that delivers is killed (kill -9) and started again.
 */
export function describeWebhooks(kind: DeploymentKind): void {
  describe(`webhooks (${kind})`, () => {
    const deployment = new Deployment(kind, {
      runners: 1,
      env: {
        FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        FLANSIBLE_WEBHOOK_MAX_ATTEMPTS: '30',
        FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS: '300',
        FLANSIBLE_WEBHOOK_TIMEOUT_MS: '2000',
        FLANSIBLE_WEBHOOK_POLL_INTERVAL_MS: '100',
        FLANSIBLE_HEARTBEAT_INTERVAL: '1',
        FLANSIBLE_RUNNER_LOST_AFTER: '3',
      },
    });
    let receiver: WebhookReceiver;
    const sdk = () => deployment.api.sdk;

    beforeAll(async () => {
      receiver = await WebhookReceiver.start();
      await deployment.boot();
    });
    afterAll(async () => {
      await deployment.stop();
      await receiver.stop();
    });

    const subscribe = async (path: string, events: ('job.started' | 'job.finished')[] = ['job.finished'], api: ApiClient = deployment.api) => {
      const webhook = await api.sdk.createWebhook({ url: `${receiver.url}${path}`, events });
      receiver.verifyWith(path, webhook.secret);
      return webhook;
    };
    const arrived = (path: string, n: number, timeoutMs = 60_000) =>
      eventually(async () => receiver.on(path).length >= n && receiver.on(path), `${n} deliveries on ${path}`, timeoutMs);
    const ping = (inventory = 'localhost') => sdk().submitCommand({ host_pattern: 'all', module: 'ping', inventory });

    it('sends job.started and job.finished of a job, signed; the receiver verifies both with Webhook.verify', async () => {
      await subscribe('/lifecycle', ['job.started', 'job.finished']);
      const job = await ping();
      const done = await sdk().waitForJob(job.id, { timeoutMs: 60_000, intervalMs: 100 });
      const received = await arrived('/lifecycle', 2);
      expect(received.map((r) => r.verifyError)).toEqual([null, null]);
      const byType = Object.fromEntries(received.map((r) => [payloadOf(r).type, r]));
      expect(Object.keys(byType).sort()).toEqual(['job.finished', 'job.started']);
      expect(payloadOf(byType['job.finished'])).toEqual({ type: 'job.finished', timestamp: done.finished_at, data: done });
      expect(payloadOf(byType['job.started'])).toMatchObject({ type: 'job.started', timestamp: done.started_at, data: { id: job.id, started_at: done.started_at } });
      expect(byType['job.started'].headers['webhook-id']).not.toBe(byType['job.finished'].headers['webhook-id']);
    });

    it('retries a receiver that answers 500 with the same webhook-id, and loses nothing when the delivering gateway is killed', async () => {
      const webhook = await subscribe('/restart');
      let healthy = false;
      receiver.answer = (r) => (r.path === '/restart' && !healthy ? 500 : 204);
      const job = await ping();
      await sdk().waitForJob(job.id, { timeoutMs: 60_000, intervalMs: 100 });
      const [first] = await arrived('/restart', 2); // failing, and retried
      await deployment.gateway.kill();
      healthy = true;
      await deployment.startGateway();
      const delivered = await eventually(async () => receiver.on('/restart').find((r) => r.status === 204), 'the delivery after the restart', 60_000);
      expect(delivered.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(delivered.verifyError).toBeNull();
      expect(payloadOf(delivered).data.id).toBe(job.id);
      const attempts = await sdk().listWebhookDeliveries(webhook.id);
      expect(attempts[0]).toMatchObject({ webhook_id: first.headers['webhook-id'], status_code: 204, error: null });
      expect(attempts.slice(1).every((a) => a.status_code === 500 && a.error === 'HTTP 500')).toBe(true);
    });

    it('sends a subscriber only the jobs it may read', async () => {
      const devadmin = deployment.api.as({ user: 'devadmin', password: 'devpassword' });
      await subscribe('/devadmin', ['job.finished'], devadmin);
      const hidden = await ping('localhost');
      const visible = await ping('dev');
      for (const job of [hidden, visible]) await sdk().waitForJob(job.id, { timeoutMs: 60_000, intervalMs: 100 });
      await arrived('/devadmin', 1);
      // The unreadable job's event was settled without a request: nothing more comes.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(receiver.on('/devadmin').map((r) => payloadOf(r).data.id)).toEqual([visible.id]);
    });

    if (kind !== 'distributed') return;

    it('delivers the outcome a runner recorded while no gateway was up', async () => {
      await subscribe('/no-gateway');
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 2 } });
      await eventually(async () => (await sdk().getJob(job.id)).status === 'running', 'the job to start');
      await deployment.gateway.kill();
      await eventually(
        async () => (await deployment.storeSql<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [job.id]))[0]?.status === 'successful',
        'the runner to record the outcome',
      );
      await deployment.startGateway();
      const [delivery] = await arrived('/no-gateway', 1);
      expect(payloadOf(delivery)).toMatchObject({ type: 'job.finished', data: { id: job.id, status: 'successful' } });
    });

    it("sends job.finished for a job whose runner was lost (the other runner's sweep ends it)", async () => {
      await subscribe('/lost');
      const job = await sdk().submitPlaybook({ playbook_dir: 'app', playbook: 'slow.yml', extra_vars: { slow_seconds: 30 } });
      await eventually(async () => (await sdk().getJob(job.id)).status === 'running', 'the job to start');
      await deployment.runners[0].kill();
      await deployment.startRunner();
      const [delivery] = await arrived('/lost', 1);
      expect(payloadOf(delivery)).toMatchObject({ type: 'job.finished', data: { id: job.id, status: 'error', reason: expect.stringMatching(/lost/) } });
    });

    it('delivers each event once with two gateways claiming at the same time', async () => {
      await subscribe('/two-gateways');
      const port = await freePort();
      const second = FlansibleProcess.start('gateway-2', GATEWAY_MAIN, { ...deployment.env, FLANSIBLE_PORT: String(port) });
      try {
        await second.waitForLog(/listening on http/);
        const jobs = await Promise.all(Array.from({ length: 6 }, () => ping()));
        for (const job of jobs) await sdk().waitForJob(job.id, { timeoutMs: 60_000, intervalMs: 100 });
        await arrived('/two-gateways', jobs.length);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const ids = receiver.on('/two-gateways').map((r) => r.headers['webhook-id']);
        expect(ids).toHaveLength(jobs.length);
        expect(new Set(ids).size).toBe(jobs.length);
        expect(new Set(receiver.on('/two-gateways').map((r) => payloadOf(r).data.id))).toEqual(new Set(jobs.map((j) => j.id)));
      } finally {
        await second.stop();
      }
    });
  });
}
