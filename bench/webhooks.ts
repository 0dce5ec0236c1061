/**
 * Webhook delivery latency: 50 ping jobs on the embedded deployment, each job.finished delivered
 * to a receiver on loopback that verifies the signature (standardwebhooks' Webhook.verify). The
 * latency is from the job's finished_at (stored by the runner as it records the outcome) to the
 * request's arrival; same machine, same clock. Printed for the default poll interval and a short
 * one, never asserted.
 */
import { WebhookPayload } from '@flansible/sdk';
import { WebhookReceiver } from '@flansible/testing';
import { Deployment } from '../test/support/deployment';

const JOBS = Number(process.env.BENCH_WEBHOOK_JOBS ?? 50);
/** Jobs submitted at a time: the embedded runner's concurrency. */
const BATCH = 4;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function latencies(pollIntervalMs: string | undefined): Promise<number[]> {
  const receiver = await WebhookReceiver.start();
  const deployment = await Deployment.start('embedded', {
    runnerConcurrency: BATCH,
    env: { FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', ...(pollIntervalMs ? { FLANSIBLE_WEBHOOK_POLL_INTERVAL_MS: pollIntervalMs } : {}) },
  });
  try {
    const sdk = deployment.api.sdk;
    const webhook = await sdk.createWebhook({ url: `${receiver.url}/bench`, events: ['job.finished'] });
    receiver.verifyWith('/bench', webhook.secret);
    for (let done = 0; done < JOBS; done += BATCH) {
      const jobs = await Promise.all(Array.from({ length: Math.min(BATCH, JOBS - done) }, () => sdk.submitCommand({ host_pattern: 'localhost', module: 'ping' })));
      for (const job of jobs) await sdk.waitForJob(job.id, { intervalMs: 50, timeoutMs: 60_000 });
    }
    const deadline = Date.now() + 30_000;
    while (receiver.on('/bench').length < JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const received = receiver.on('/bench');
    const unverified = received.filter((r) => r.verifyError !== null).length;
    if (received.length !== JOBS || unverified > 0) throw new Error(`${received.length} of ${JOBS} deliveries arrived, ${unverified} failed to verify`);
    return received.map((r) => r.receivedAt - Date.parse((r.payload as WebhookPayload).data.finished_at!));
  } finally {
    await deployment.stop();
    await receiver.stop();
  }
}

export async function benchWebhooks(): Promise<void> {
  for (const [label, interval] of [['default poll interval (500 ms)', undefined], ['webhook_poll_interval_ms=50', '50']] as const) {
    const values = await latencies(interval);
    console.log(
      `[embedded] webhook job.finished, job end -> receiver, ${values.length} jobs, ${label}: p50 ${percentile(values, 50).toFixed(0)} ms, p95 ${percentile(values, 95).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms`,
    );
  }
}
