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
});
