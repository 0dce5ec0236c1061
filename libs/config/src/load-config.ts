import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FieldGrammar, MAX_JOB_SECONDS } from '@flansible/contracts';
import { FlansibleConfig } from './flansible-config';
import { parseWebhookHostRule, WebhookHostRule } from './webhook-allowed-hosts';

/** A bad configuration value; the message names the key and is printed as the one line at boot. */
export class ConfigError extends Error {}

type Parsed = Omit<FlansibleConfig, 'deployment'>;
type RawValue = string | number | boolean | null | undefined;

interface KeySpec<K extends keyof Parsed> {
  /** Key in config/flansible.yml; the environment variable is FLANSIBLE_ + upper case. */
  file: string;
  parse: (value: RawValue, name: string) => Parsed[K];
  default: RawValue;
}

const text = (value: RawValue, name: string): string => {
  const s = value === null || value === undefined ? '' : String(value).trim();
  if (!s) throw new ConfigError(`${name} must not be empty`);
  if (/[\0\n\r]/.test(s)) throw new ConfigError(`${name} must not contain control characters`);
  return s;
};
const optionalText = (value: RawValue, name: string): string | null =>
  value === null || value === undefined || String(value).trim() === '' ? null : text(value, name);
const path = (value: RawValue, name: string): string => resolve(text(value, name));
const integer =
  (min: number, max: number) =>
  (value: RawValue, name: string): number => {
    const s = text(value, name);
    if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${s}")`);
    }
    return Number(s);
  };
const url =
  (...protocols: string[]) =>
  (value: RawValue, name: string): string | null => {
    const s = optionalText(value, name);
    if (s === null) return null;
    let parsed: URL;
    try {
      parsed = new URL(s);
    } catch {
      throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')})`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
    }
    return s;
  };

/** The non-empty items of a comma-separated value; none when it is empty or unset. */
const items = (value: RawValue): string[] =>
  (value === null || value === undefined ? '' : String(value))
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const list = (value: RawValue, name: string): string[] => {
  const modules = items(text(value, name));
  for (const item of modules) {
    if (item !== '*' && !FieldGrammar.module.test(item)) throw new ConfigError(`${name} has an invalid module name "${item}"`);
  }
  return modules;
};
/**
 * Browser origins, comma-separated, each exactly as a browser sends it in `Origin`
 * (`https://portal.example.com`, `http://127.0.0.1:8080`): scheme, host and a port only when it is
 * not the default. No wildcard: credentials are allowed, and `*` with credentials is what CORS forbids.
 */
const origins = (value: RawValue, name: string): string[] => {
  const items = (optionalText(value, name) ?? '').split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    const parsed = URL.canParse(item) ? new URL(item) : null;
    if (!parsed || parsed.origin !== item || !['http:', 'https:'].includes(parsed.protocol)) {
      throw new ConfigError(`${name} must list origins like https://portal.example.com (no path, no wildcard; got "${item}")`);
    }
  }
  return items;
};
const hostRules = (value: RawValue, name: string): WebhookHostRule[] =>
  items(value).map((item) => {
    const rule = parseWebhookHostRule(item);
    if (!rule) throw new ConfigError(`${name} has "${item}", which is neither a host name nor an address or CIDR range (10.0.0.0/8, fd00::/8)`);
    return rule;
  });
const integers =
  (min: number, max: number) =>
  (value: RawValue, name: string): number[] => {
    const values = items(text(value, name));
    if (values.length === 0 || values.some((v) => !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)) {
      throw new ConfigError(`${name} must be comma-separated whole numbers from ${min} to ${max} (got "${value}")`);
    }
    return values.map(Number);
  };
/** A size in MiB, fractions allowed (0.5 = 512 KiB), as whole bytes. */
const mebibytes =
  (min: number, max: number) =>
  (value: RawValue, name: string): number => {
    const s = text(value, name);
    if (!/^\d+(\.\d+)?$/.test(s) || Number(s) < min || Number(s) > max) {
      throw new ConfigError(`${name} must be a number of MiB from ${min} to ${max}, e.g. 64 or 0.5 (got "${s}")`);
    }
    return Math.floor(Number(s) * 1024 ** 2);
  };
const logFormat = (value: RawValue, name: string): 'text' | 'json' => {
  const s = text(value, name).toLowerCase();
  if (s !== 'text' && s !== 'json') throw new ConfigError(`${name} must be text or json (got "${value}")`);
  return s;
};
const boolean = (value: RawValue, name: string): boolean => {
  const s = text(value, name).toLowerCase();
  if (s !== 'true' && s !== 'false') throw new ConfigError(`${name} must be true or false (got "${s}")`);
  return s === 'true';
};
const byteSize = (value: RawValue, name: string): number => {
  const match = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i.exec(text(value, name));
  const units: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };
  const bytes = match ? Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()] : NaN;
  if (!(bytes >= 1024 && bytes <= 64 * 1024 ** 2)) throw new ConfigError(`${name} must be a size from 1kb to 64mb, e.g. 1mb (got "${value}")`);
  return bytes;
};

/**
 * Ad-hoc modules allowed by default: diagnostics, the everyday command modules and common
 * state management. Anything else (raw, script, fetch, …) must be added by the operator.
 */
export const DEFAULT_ADHOC_MODULES = [
  'ping', 'setup', 'gather_facts', 'debug', 'find', 'stat', 'command', 'shell',
  'service', 'systemd', 'service_facts', 'package', 'package_facts', 'apt', 'dnf', 'yum',
  'file', 'copy', 'lineinfile', 'user', 'group', 'cron', 'reboot', 'uri', 'get_url', 'wait_for',
].join(',');

const KEYS: { [K in keyof Parsed]: KeySpec<K> } = {
  host: { file: 'host', parse: text, default: '127.0.0.1' },
  port: { file: 'port', parse: integer(1, 65535), default: 3000 },
  runnerHost: { file: 'runner_host', parse: text, default: '127.0.0.1' },
  runnerPort: { file: 'runner_port', parse: integer(0, 65535), default: 3001 },
  rbacFile: { file: 'rbac_file', parse: path, default: './rbac.json' },
  playbookRoot: { file: 'playbook_root', parse: path, default: './playbooks' },
  inventoryRoot: { file: 'inventory_root', parse: path, default: './inventories' },
  defaultInventory: { file: 'default_inventory', parse: text, default: 'localhost' },
  vaultRoot: { file: 'vault_root', parse: path, default: './vault' },
  dataDir: { file: 'data_dir', parse: path, default: './data' },
  amqpUrl: { file: 'amqp_url', parse: url('amqp:', 'amqps:'), default: null },
  databaseUrl: { file: 'database_url', parse: url('postgres:', 'postgresql:'), default: null },
  taskTimeoutSeconds: { file: 'task_timeout', parse: integer(1, MAX_JOB_SECONDS), default: 3600 },
  runnerConcurrency: { file: 'runner_concurrency', parse: integer(1, 256), default: 4 },
  idleTimeoutSeconds: { file: 'idle_timeout', parse: integer(0, 7 * 24 * 3600), default: 1800 },
  killGraceSeconds: { file: 'kill_grace', parse: integer(1, 600), default: 5 },
  heartbeatSeconds: { file: 'heartbeat_interval', parse: integer(1, 300), default: 5 },
  runnerLostAfterSeconds: { file: 'runner_lost_after', parse: integer(3, 3600), default: 30 },
  retentionDays: { file: 'retention_days', parse: integer(0, 36500), default: 30 },
  retentionIntervalSeconds: { file: 'retention_interval', parse: integer(1, 7 * 24 * 3600), default: 3600 },
  adhocModules: { file: 'adhoc_modules', parse: list, default: DEFAULT_ADHOC_MODULES },
  bodyLimitBytes: { file: 'body_limit', parse: byteSize, default: '1mb' },
  logFormat: { file: 'log_format', parse: logFormat, default: 'text' },
  publishTimeoutMs: { file: 'publish_timeout_ms', parse: integer(100, 60000), default: 3000 },
  maxJobsPerUser: { file: 'max_jobs_per_user', parse: integer(1, 1_000_000), default: 100 },
  maxOutputBytes: { file: 'max_output_mb', parse: mebibytes(0.001, 1024 * 1024), default: 64 },
  maxStreamsPerUser: { file: 'max_streams_per_user', parse: integer(1, 1_000_000), default: 20 },
  maxStreams: { file: 'max_streams', parse: integer(1, 1_000_000), default: 1000 },
  warmRunner: { file: 'warm_runner', parse: boolean, default: true },
  metrics: { file: 'metrics', parse: boolean, default: true },
  metricsPublic: { file: 'metrics_public', parse: boolean, default: false },
  shutdownGraceSeconds: { file: 'shutdown_grace', parse: integer(0, 7 * 24 * 3600), default: 600 },
  corsOrigins: { file: 'cors_origins', parse: origins, default: null },
  webhookAllowedHosts: { file: 'webhook_allowed_hosts', parse: hostRules, default: '' },
  webhookMaxAttempts: { file: 'webhook_max_attempts', parse: integer(1, 100), default: 8 },
  // 5 s, 30 s, 2 min, 10 min, 30 min, 2 h, 6 h: about nine hours from the first attempt to the eighth.
  webhookRetryDelaysMs: {
    file: 'webhook_retry_delays_ms',
    parse: integers(0, 7 * 24 * 3600 * 1000),
    default: '5000,30000,120000,600000,1800000,7200000,21600000',
  },
  webhookTimeoutMs: { file: 'webhook_timeout_ms', parse: integer(100, 120_000), default: 10_000 },
  webhookPollIntervalMs: { file: 'webhook_poll_interval_ms', parse: integer(10, 60_000), default: 500 },
};

export const DEFAULT_CONFIG_FILE = 'config/flansible.yml';

export function envName(fileKey: string): string {
  return `FLANSIBLE_${fileKey.toUpperCase()}`;
}

function readConfigFile(file: string): Record<string, RawValue> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`FLANSIBLE_CONFIG_FILE ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`FLANSIBLE_CONFIG_FILE ${file} must hold a mapping of keys to values`);
  }
  const known = new Set(Object.values(KEYS).map((k) => k.file));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) throw new ConfigError(`${envName(key)}: unknown key "${key}" in ${file}`);
  }
  return parsed as Record<string, RawValue>;
}

/**
 * Reads config/flansible.yml (or FLANSIBLE_CONFIG_FILE), lets every key be overridden by its
 * FLANSIBLE_* environment variable, and validates the lot. Throws ConfigError naming the key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): FlansibleConfig {
  const file = resolve(env.FLANSIBLE_CONFIG_FILE ?? DEFAULT_CONFIG_FILE);
  const fromFile = readConfigFile(file);
  const values: Record<string, unknown> = {};
  for (const [prop, spec] of Object.entries(KEYS) as [keyof Parsed, KeySpec<keyof Parsed>][]) {
    const name = envName(spec.file);
    const raw = env[name] ?? fromFile[spec.file] ?? spec.default;
    values[prop] = spec.parse(raw, name);
  }
  const config = new FlansibleConfig(values as Parsed);
  if (config.runnerLostAfterSeconds < 2 * config.heartbeatSeconds) {
    throw new ConfigError('FLANSIBLE_RUNNER_LOST_AFTER must be at least twice FLANSIBLE_HEARTBEAT_INTERVAL');
  }
  if (config.amqpUrl && !config.databaseUrl) {
    throw new ConfigError(
      'FLANSIBLE_DATABASE_URL must be set when FLANSIBLE_AMQP_URL is: separate processes need a shared PostgreSQL store',
    );
  }
  return config;
}

/**
 * The defaults with some values replaced, for specs and tools that build a configuration in
 * code rather than from the file and environment.
 */
export function configWith(overrides: Partial<Parsed> = {}): FlansibleConfig {
  const defaults = loadConfig({ FLANSIBLE_CONFIG_FILE: '/nonexistent/flansible.yml' });
  return new FlansibleConfig({ ...defaults, ...overrides } as Parsed);
}
