import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { envName } from '@flansible/config';

const ROOT = join(__dirname, '..');

interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  environment?: Record<string, string>;
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  container_name?: string;
  deploy?: { replicas?: number };
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  init?: boolean;
}

/** A compose duration (`620s`, `10m30s`, `1h`) in seconds. */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(h|m|s)/g)];
  expect(parts.map((m) => m[0]).join('')).toBe(duration);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit as 'h' | 'm' | 's'], 0);
}

/** docker-compose.yml cannot run here (no Docker engine), so check that it says what it must. */
describe('docker-compose.yml', () => {
  const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  // merge: the gateway and the runner share their broker and database URLs through `<<: *anchor`.
  const compose = parse(composeText, { merge: true }) as { services: Record<string, ComposeService> };
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const dockerfileTargets = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
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

  it('gives the runner the gateway\'s rbac.json, read-only, to check rights again before a job starts', () => {
    for (const name of ['gateway', 'runner']) {
      const service = compose.services[name] as { environment?: Record<string, string>; volumes?: string[] };
      const file = service.environment?.FLANSIBLE_RBAC_FILE;
      expect(file).toBe('/etc/flansible/rbac.json');
      expect(service.volumes).toContain(`./deploy/rbac.json:${file}:ro`);
    }
  });

  it('checks the runner\'s liveness on its own loopback listener', () => {
    const health = (compose.services.runner as { healthcheck?: { test: string[] } }).healthcheck;
    expect(health?.test.join(' ')).toContain('http://127.0.0.1:3001/health/live');
  });

  it('checks the gateway\'s readiness: the database answers and the broker takes jobs', () => {
    expect(compose.services.gateway.healthcheck?.test.join(' ')).toContain('http://127.0.0.1:3000/api/health/ready');
  });

  it('gives a stopping runner longer than its drain (FLANSIBLE_SHUTDOWN_GRACE) and the kill grace before SIGKILL', () => {
    const runner = compose.services.runner;
    const grace = Number(runner.environment?.FLANSIBLE_SHUTDOWN_GRACE ?? 600);
    const killGrace = Number(runner.environment?.FLANSIBLE_KILL_GRACE ?? 5);
    expect(runner.stop_grace_period).toBeDefined();
    expect(seconds(runner.stop_grace_period!)).toBeGreaterThan(grace + killGrace);
    // Node is not PID 1, where a signal's default action is ignored: SIGTERM reaches the drain.
    for (const name of ['gateway', 'runner']) expect(compose.services[name].init).toBe(true);
  });

  it('lets the runner scale: no fixed container name or host port', () => {
    expect(compose.services.runner.container_name).toBeUndefined();
    expect(compose.services.runner.ports).toBeUndefined();
  });

  describe('hardened defaults', () => {
    const exampleText = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const example = new Map([...exampleText.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]] as const));
    /** Every `${...}` interpolation in the compose file, as written. */
    const interpolations = [...composeText.matchAll(/\$\{[^}]*\}/g)].map((m) => m[0]);
    const variableOf = (value: string | undefined) => /^\$\{([A-Z][A-Z0-9_]*):\?[^}]+\}$/.exec(value ?? '')?.[1];
    /** Published ports as [host address, host port, container port]; no address means every interface. */
    const published = (name: string) =>
      (compose.services[name].ports ?? []).map((port) => {
        if (typeof port !== 'string') return [port.host_ip ?? '0.0.0.0', String(port.published ?? ''), String(port.target)];
        const parts = port.replace(/\/\w+$/, '').split(':');
        return parts.length === 3 ? parts : ['0.0.0.0', ...(parts.length === 2 ? parts : ['', parts[0]])];
      });

    it('requires every value it interpolates, from .env, with a message (${VAR:?message})', () => {
      expect(interpolations.length).toBeGreaterThan(0);
      for (const interpolation of interpolations) expect(variableOf(interpolation)).toBeDefined();
    });

    it('ships .env.example naming exactly the variables the compose file needs, with no password in it', () => {
      const needed = new Set(interpolations.map((interpolation) => variableOf(interpolation)));
      expect([...example.keys()].sort()).toEqual([...needed].sort());
      for (const [key, value] of example) if (/PASS/.test(key)) expect(value).toBe('');
    });

    it('keeps .env out of git and .env.example in it', () => {
      const ignored = (path: string) => {
        try {
          execFileSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT });
          return true;
        } catch {
          return false;
        }
      };
      expect(ignored('.env')).toBe(true);
      expect(ignored('.env.example')).toBe(false);
    });

    it('gives RabbitMQ its own user from .env, and the apps connect with exactly those credentials', () => {
      const rabbitmq = compose.services.rabbitmq.environment ?? {};
      const user = variableOf(rabbitmq.RABBITMQ_DEFAULT_USER);
      const pass = variableOf(rabbitmq.RABBITMQ_DEFAULT_PASS);
      expect(user).toBeDefined();
      expect(pass).toBeDefined();
      expect(example.get(user!)).toMatch(/^\w+$/);
      expect(example.get(user!)).not.toMatch(/^guest$/i);
      const amqpUrl = new RegExp(`^amqp://\\$\\{${user}:\\?[^}]+\\}:\\$\\{${pass}:\\?[^}]+\\}@rabbitmq:5672$`);
      for (const name of ['gateway', 'runner']) expect(compose.services[name].environment?.FLANSIBLE_AMQP_URL).toMatch(amqpUrl);
    });

    it('takes the PostgreSQL password from .env, and the apps connect with it', () => {
      const postgres = compose.services.postgres.environment ?? {};
      const password = variableOf(postgres.POSTGRES_PASSWORD);
      expect(password).toBeDefined();
      const databaseUrl = new RegExp(
        `^postgres://${postgres.POSTGRES_USER}:\\$\\{${password}:\\?[^}]+\\}@postgres:5432/${postgres.POSTGRES_DB}$`,
      );
      for (const name of ['gateway', 'runner']) expect(compose.services[name].environment?.FLANSIBLE_DATABASE_URL).toMatch(databaseUrl);
    });

    it('writes no password and no guest user into the file', () => {
      const values = Object.values(compose.services).flatMap((service) => Object.entries(service.environment ?? {}));
      for (const [key, value] of values) {
        expect(value).not.toMatch(/guest/i);
        if (/PASS/.test(key)) expect(variableOf(value)).toBeDefined();
        // A URL's password part is an interpolation, never a literal.
        const userinfo = /^\w+:\/\/([^@]*)@/.exec(value)?.[1]?.replace(/\$\{[^}]*\}/g, '${}');
        if (userinfo?.includes(':')) expect(userinfo.split(':')[1]).toBe('${}');
      }
    });

    it('publishes no broker or database port, and the management UI on 127.0.0.1 only', () => {
      expect(published('postgres')).toEqual([]);
      expect(published('rabbitmq')).toEqual([['127.0.0.1', '15672', '15672']]);
    });

    it('runs the apps as the unprivileged node user, with their data directory 0700 and no SSH key baked in', () => {
      const stages = dockerfile.split(/^(?=FROM\s)/m);
      const lastUser = (target: string): string => {
        const stage = stages.find((text) => new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${target}\\s`, 'i').test(text)) ?? '';
        const own = [...stage.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]).pop();
        const base = /^FROM\s+(\S+)/.exec(stage)?.[1];
        return own ?? (base && dockerfileTargets.includes(base) ? lastUser(base) : 'root');
      };
      for (const name of ['gateway', 'runner']) expect(lastUser(compose.services[name].build!.target)).toBe('node');
      expect(dockerfile).toMatch(/^RUN install -d -m 0700 -o node -g node \/app\/data$/m);
      expect(dockerfile).not.toMatch(/^(COPY|ADD)\s.*(\.ssh|id_rsa|id_ed25519|known_hosts)/im);
      expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.env', '**/.ssh']));
    });
  });
});
