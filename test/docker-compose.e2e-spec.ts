import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envName } from '@flansible/config';

const ROOT = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  deploy?: { replicas?: number };
}

/** docker-compose.yml cannot run here (no Docker engine), so check that it says what it must. */
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
  const dockerfileTargets = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
  const configKeys = new Set(
    [...readFileSync(join(ROOT, 'config/flansible.yml'), 'utf8').matchAll(/^([a-z_]+):/gm)].map((m) => envName(m[1])),
  );

  it('has RabbitMQ with the management UI, PostgreSQL, a gateway and a runner', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'postgres', 'rabbitmq', 'runner']);
    expect(compose.services.rabbitmq.image).toMatch(/^rabbitmq:.*management/);
    expect(compose.services.postgres.image).toMatch(/^postgres:/);
  });

  it('builds the gateway and runner from real Dockerfile targets', () => {
    for (const name of ['gateway', 'runner']) {
      expect(compose.services[name].build?.context).toBe('.');
      expect(dockerfileTargets).toContain(compose.services[name].build?.target);
    }
  });

  it('configures both apps only through known FLANSIBLE_* keys, pointing at the compose services', () => {
    for (const name of ['gateway', 'runner']) {
      const env = compose.services[name].environment ?? {};
      for (const key of Object.keys(env)) expect(configKeys).toContain(key);
      expect(env.FLANSIBLE_AMQP_URL).toMatch(/^amqp:\/\/.*@rabbitmq:5672/);
      expect(env.FLANSIBLE_DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    }
  });

  it('lets the runner scale: no fixed container name or host port', () => {
    expect(compose.services.runner.container_name).toBeUndefined();
    expect(compose.services.runner.ports).toBeUndefined();
  });
});
