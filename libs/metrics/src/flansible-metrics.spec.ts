import type { Request } from 'express';
import { configWith } from '@flansible/config';
import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobStatus } from '@flansible/contracts';
import { HeldDeliveries, InProcessJobQueue, InProcessJobQueueStats } from '@flansible/queue';
import { JobRecord } from '@flansible/store';
import { FlansibleMetrics } from './flansible-metrics';
import { UNMATCHED_ROUTE, methodLabel, routeLabel } from './http-metrics';

/** `name{labels} value` lines of the exposition, by `name{labels}`. */
async function samples(metrics: FlansibleMetrics): Promise<Map<string, number>> {
  const { body } = await metrics.exposition();
  const lines = body.split('\n').filter((line) => line && !line.startsWith('#'));
  return new Map(lines.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
}

const claimed = (id: string, waitedMs: number): JobRecord =>
  ({ id, kind: JobKind.Command, createdAt: new Date(Date.now() - waitedMs), startedAt: new Date() }) as JobRecord;

describe('FlansibleMetrics', () => {
  const config = configWith({ metrics: false });

  it('shows every kind and outcome at 0 before it happens', async () => {
    const values = await samples(new FlansibleMetrics(config));
    expect(values.get('flansible_jobs_submitted_total{kind="git"}')).toBe(0);
    expect(values.get('flansible_jobs_finished_total{kind="playbook",status="timed_out"}')).toBe(0);
  });

  it('counts a started job as running until its outcome is recorded, then as finished once, with its duration and queue wait', async () => {
    const metrics = new FlansibleMetrics(config);
    metrics.jobStarted(claimed('a', 1500));
    expect((await samples(metrics)).get('flansible_jobs_running')).toBe(1);
    metrics.jobFinished('a', JobStatus.Successful, true);
    metrics.jobFinished('a', JobStatus.Successful, true); // a second record of the same job counts nothing
    const values = await samples(metrics);
    expect(values.get('flansible_jobs_running')).toBe(0);
    expect(values.get('flansible_jobs_finished_total{kind="command",status="successful"}')).toBe(1);
    expect(values.get('flansible_job_duration_seconds_count{kind="command",status="successful"}')).toBe(1);
    expect(values.get('flansible_job_queue_wait_seconds_count')).toBe(1);
    expect(values.get('flansible_job_queue_wait_seconds_bucket{le="1"}')).toBe(0);
    expect(values.get('flansible_job_queue_wait_seconds_bucket{le="2"}')).toBe(1);
  });

  it('does not count a job another process had already ended, but no longer shows it running', async () => {
    const metrics = new FlansibleMetrics(config);
    metrics.jobStarted(claimed('b', 0));
    metrics.jobFinished('b', JobStatus.Error, false);
    const values = await samples(metrics);
    expect(values.get('flansible_jobs_running')).toBe(0);
    expect(values.get('flansible_jobs_finished_total{kind="command",status="error"}')).toBe(0);
  });

  it('counts stored output lines, open streams once each, and the queue counts of the in-process queue', async () => {
    const queue = new InProcessJobQueue();
    const metrics = new FlansibleMetrics(config, new InProcessJobQueueStats(queue, new HeldDeliveries()));
    metrics.outputStored('one\ntwo\nthr');
    metrics.outputStored('ee\n');
    const closeFirst = metrics.streamOpened();
    metrics.streamOpened();
    closeFirst();
    closeFirst();
    // No consumer: it stays ready.
    await queue.publish({
      schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
      jobId: 'x',
      submittedBy: 'alice',
      submittedAt: new Date().toISOString(),
      spec: { kind: JobKind.Command, inventoryPath: '/srv/inventories/dev', hostPattern: 'all', module: 'ping' },
    });
    const values = await samples(metrics);
    expect(values.get('flansible_output_lines_total')).toBe(3);
    expect(values.get('flansible_stream_clients')).toBe(1);
    expect(values.get('flansible_queue_messages{queue="flansible.jobs",state="ready"}')).toBe(1);
    expect(values.get('flansible_queue_messages{queue="flansible.jobs.dead",state="unacked"}')).toBe(0);
  });

  it('collects the default process metrics only when metrics are on', async () => {
    expect([...(await samples(new FlansibleMetrics(config))).keys()].some((k) => k.startsWith('process_'))).toBe(false);
    expect((await samples(new FlansibleMetrics(configWith({ metrics: true })))).has('process_cpu_seconds_total')).toBe(true);
  });
});

describe('HTTP labels', () => {
  const withRoute = (path?: string) => ({ route: path === undefined ? undefined : { path } }) as unknown as Request;

  it('use the route template, and one label for requests that matched no handler', () => {
    expect(routeLabel(withRoute('/api/v1/jobs/:id'))).toBe('/api/v1/jobs/:id');
    expect(routeLabel(withRoute())).toBe(UNMATCHED_ROUTE);
    // A middleware's mount (RequireJsonMiddleware on POST /*path) is no match.
    expect(routeLabel(withRoute('/*path'))).toBe(UNMATCHED_ROUTE);
  });

  it('keep the usual methods and fold the rest into one', () => {
    expect(methodLabel('GET')).toBe('GET');
    expect(methodLabel('PROPFIND')).toBe('other');
  });
});
