import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from './load-config';

describe('loadConfig', () => {
  const noFile = { FLANSIBLE_CONFIG_FILE: '/nonexistent/flansible.yml' };

  it('gives the documented defaults and the embedded deployment', () => {
    const config = loadConfig(noFile);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, taskTimeoutSeconds: 3600, rbacFile: resolve('rbac.json') });
    expect(config.deployment).toBe('embedded');
  });

  it('limits jobs per user to 100 and stored output to 64 MiB by default, and reads both from the environment', () => {
    expect(loadConfig(noFile)).toMatchObject({ maxJobsPerUser: 100, maxOutputBytes: 64 * 1024 * 1024 });
    const config = loadConfig({ ...noFile, FLANSIBLE_MAX_JOBS_PER_USER: '3', FLANSIBLE_MAX_OUTPUT_MB: '0.5' });
    expect(config).toMatchObject({ maxJobsPerUser: 3, maxOutputBytes: 512 * 1024 });
  });

  it('caps open streams at 20 per user and 1000 in all by default, and reads both from the environment', () => {
    expect(loadConfig(noFile)).toMatchObject({ maxStreamsPerUser: 20, maxStreams: 1000 });
    const config = loadConfig({ ...noFile, FLANSIBLE_MAX_STREAMS_PER_USER: '2', FLANSIBLE_MAX_STREAMS: '5' });
    expect(config).toMatchObject({ maxStreamsPerUser: 2, maxStreams: 5 });
    expect(() => loadConfig({ ...noFile, FLANSIBLE_MAX_STREAMS_PER_USER: '0' })).toThrow(/^FLANSIBLE_MAX_STREAMS_PER_USER must be a whole number from 1/);
  });

  it('logs text by default, json when asked, and refuses another format', () => {
    expect(loadConfig(noFile).logFormat).toBe('text');
    expect(loadConfig({ ...noFile, FLANSIBLE_LOG_FORMAT: 'JSON' }).logFormat).toBe('json');
    expect(() => loadConfig({ ...noFile, FLANSIBLE_LOG_FORMAT: 'xml' })).toThrow('FLANSIBLE_LOG_FORMAT must be text or json (got "xml")');
  });

  it('runs Ansible warm by default, and cold with FLANSIBLE_WARM_RUNNER=false or warm_runner: false', () => {
    expect(loadConfig(noFile).warmRunner).toBe(true);
    expect(loadConfig({ ...noFile, FLANSIBLE_WARM_RUNNER: 'false' }).warmRunner).toBe(false);
  });

  it('serves metrics by default, to admins only, and reads both switches from the environment', () => {
    expect(loadConfig(noFile)).toMatchObject({ metrics: true, metricsPublic: false });
    expect(loadConfig({ ...noFile, FLANSIBLE_METRICS: 'false', FLANSIBLE_METRICS_PUBLIC: 'TRUE' })).toMatchObject({ metrics: false, metricsPublic: true });
  });

  it('allows no browser origin by default, and only exact origins when listed', () => {
    expect(loadConfig(noFile).corsOrigins).toEqual([]);
    const listed = loadConfig({ ...noFile, FLANSIBLE_CORS_ORIGINS: 'https://portal.example.com, http://127.0.0.1:8080' });
    expect(listed.corsOrigins).toEqual(['https://portal.example.com', 'http://127.0.0.1:8080']);
    for (const bad of ['*', 'https://portal.example.com/', 'https://portal.example.com/app', 'portal.example.com', 'ftp://x.example', 'https://a.example:443', 'null']) {
      expect(() => loadConfig({ ...noFile, FLANSIBLE_CORS_ORIGINS: bad })).toThrow(/^FLANSIBLE_CORS_ORIGINS must list origins like/);
    }
  });

  it('lets the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flansible-config-'));
    const file = join(dir, 'flansible.yml');
    writeFileSync(file, 'port: 4000\ntask_timeout: 60\n');
    const config = loadConfig({ FLANSIBLE_CONFIG_FILE: file, FLANSIBLE_PORT: '4001' });
    expect(config.port).toBe(4001);
    expect(config.taskTimeoutSeconds).toBe(60);
  });

  it.each([
    [{ FLANSIBLE_PORT: 'abc' }, /^FLANSIBLE_PORT must be a whole number/],
    [{ FLANSIBLE_PORT: '70000' }, /^FLANSIBLE_PORT/],
    [{ FLANSIBLE_TASK_TIMEOUT: '-1' }, /^FLANSIBLE_TASK_TIMEOUT/],
    [{ FLANSIBLE_RUNNER_CONCURRENCY: '0' }, /^FLANSIBLE_RUNNER_CONCURRENCY/],
    [{ FLANSIBLE_AMQP_URL: 'http://x' }, /^FLANSIBLE_AMQP_URL must use amqp/],
    [{ FLANSIBLE_DATABASE_URL: 'not a url' }, /^FLANSIBLE_DATABASE_URL must be a URL/],
    [{ FLANSIBLE_AMQP_URL: 'amqp://localhost' }, /^FLANSIBLE_DATABASE_URL must be set/],
    [{ FLANSIBLE_MAX_JOBS_PER_USER: '0' }, /^FLANSIBLE_MAX_JOBS_PER_USER must be a whole number from 1/],
    [{ FLANSIBLE_MAX_JOBS_PER_USER: '2.5' }, /^FLANSIBLE_MAX_JOBS_PER_USER/],
    [{ FLANSIBLE_MAX_OUTPUT_MB: '0' }, /^FLANSIBLE_MAX_OUTPUT_MB must be a number of MiB/],
    [{ FLANSIBLE_MAX_OUTPUT_MB: '64mb' }, /^FLANSIBLE_MAX_OUTPUT_MB/],
    [{ FLANSIBLE_MAX_OUTPUT_MB: '-1' }, /^FLANSIBLE_MAX_OUTPUT_MB/],
    [{ FLANSIBLE_METRICS_PUBLIC: 'yes' }, /^FLANSIBLE_METRICS_PUBLIC must be true or false/],
  ])('refuses %j with a message naming the key', (env, message) => {
    expect(() => loadConfig({ ...noFile, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...noFile, ...env })).toThrow(message);
  });

  it('refuses unknown keys in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flansible-config-'));
    const file = join(dir, 'flansible.yml');
    writeFileSync(file, 'prot: 4000\n');
    expect(() => loadConfig({ FLANSIBLE_CONFIG_FILE: file })).toThrow(/FLANSIBLE_PROT: unknown key "prot"/);
  });

  it('reads the shipped config/flansible.yml without error', () => {
    expect(loadConfig({}).deployment).toBe('embedded');
  });

  it('gives a stopping runner 600 s for its running jobs by default; 0 stops them at once', () => {
    expect(loadConfig(noFile).shutdownGraceSeconds).toBe(600);
    expect(loadConfig({ ...noFile, FLANSIBLE_SHUTDOWN_GRACE: '0' }).shutdownGraceSeconds).toBe(0);
    expect(() => loadConfig({ ...noFile, FLANSIBLE_SHUTDOWN_GRACE: '-1' })).toThrow(/^FLANSIBLE_SHUTDOWN_GRACE must be a whole number/);
  });

  it('sends webhooks with 8 attempts, growing waits and a 10 s timeout by default, to no host the SSRF rules refuse', () => {
    expect(loadConfig(noFile)).toMatchObject({
      webhookAllowedHosts: [],
      webhookMaxAttempts: 8,
      webhookRetryDelaysMs: [5000, 30000, 120000, 600000, 1800000, 7200000, 21600000],
      webhookTimeoutMs: 10_000,
      webhookPollIntervalMs: 500,
    });
    const config = loadConfig({
      ...noFile,
      FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: ' 127.0.0.1, Hooks.Internal., 10.0.0.0/8,[::1],fd00::/8 ',
      FLANSIBLE_WEBHOOK_MAX_ATTEMPTS: '3',
      FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS: '100, 200',
    });
    expect(config.webhookAllowedHosts).toEqual([
      { kind: 'subnet', address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { kind: 'host', host: 'hooks.internal' },
      { kind: 'subnet', address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { kind: 'subnet', address: '::1', prefix: 128, family: 'ipv6' },
      { kind: 'subnet', address: 'fd00::', prefix: 8, family: 'ipv6' },
    ]);
    expect(config).toMatchObject({ webhookMaxAttempts: 3, webhookRetryDelaysMs: [100, 200] });
  });

  it.each([
    [{ FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/33' }, /^FLANSIBLE_WEBHOOK_ALLOWED_HOSTS has "10.0.0.0\/33", which is neither/],
    [{ FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: 'http://hooks.internal' }, /^FLANSIBLE_WEBHOOK_ALLOWED_HOSTS has "http:/],
    [{ FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: 'hooks.internal/8' }, /^FLANSIBLE_WEBHOOK_ALLOWED_HOSTS/],
    [{ FLANSIBLE_WEBHOOK_ALLOWED_HOSTS: '-bad-.example' }, /^FLANSIBLE_WEBHOOK_ALLOWED_HOSTS/],
    [{ FLANSIBLE_WEBHOOK_MAX_ATTEMPTS: '0' }, /^FLANSIBLE_WEBHOOK_MAX_ATTEMPTS must be a whole number from 1/],
    [{ FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS: '100,soon' }, /^FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS must be comma-separated whole numbers/],
    [{ FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS: ',' }, /^FLANSIBLE_WEBHOOK_RETRY_DELAYS_MS/],
    [{ FLANSIBLE_WEBHOOK_TIMEOUT_MS: '10' }, /^FLANSIBLE_WEBHOOK_TIMEOUT_MS must be a whole number from 100/],
  ])('refuses the webhook setting %j naming the key', (env, message) => {
    expect(() => loadConfig({ ...noFile, ...env })).toThrow(message);
  });
});
