import { WebhookHostRule } from './webhook-allowed-hosts';

export type Deployment = 'embedded' | 'distributed';

/** The validated configuration, read once at boot. Also the DI token for it. */
export class FlansibleConfig {
  readonly host!: string;
  readonly port!: number;
  /** Where a separate runner answers HTTP (liveness; metrics later): loopback by default. */
  readonly runnerHost!: string;
  /** The runner's HTTP port; 0: no HTTP listener. */
  readonly runnerPort!: number;
  readonly rbacFile!: string;
  readonly playbookRoot!: string;
  readonly inventoryRoot!: string;
  /** Inventory used when a request names none: a name under inventoryRoot or a path inside it. */
  readonly defaultInventory!: string;
  /** Vault password files must resolve inside this directory. */
  readonly vaultRoot!: string;
  readonly dataDir!: string;
  readonly amqpUrl!: string | null;
  readonly databaseUrl!: string | null;
  readonly taskTimeoutSeconds!: number;
  readonly runnerConcurrency!: number;
  /** Seconds without any output before a job is killed as timed_out (0: no idle limit). */
  readonly idleTimeoutSeconds!: number;
  /** Seconds between SIGTERM and SIGKILL when a job is canceled or times out. */
  readonly killGraceSeconds!: number;
  /** Seconds between a runner's heartbeats. */
  readonly heartbeatSeconds!: number;
  /** A runner silent this long is lost: its running jobs end as error. */
  readonly runnerLostAfterSeconds!: number;
  /** Jobs, output and events older than this many days are purged (0: keep for ever). */
  readonly retentionDays!: number;
  /** Seconds between retention purges. */
  readonly retentionIntervalSeconds!: number;
  /** Ad-hoc modules anyone may run (short names also allow their ansible.builtin/legacy forms); ['*'] allows all. */
  readonly adhocModules!: readonly string[];
  /** Largest request body accepted, in bytes (413 beyond). */
  readonly bodyLimitBytes!: number;
  /** Log lines as Nest's text (colours only on a terminal) or one JSON object per line. */
  readonly logFormat!: 'text' | 'json';
  /** How long a publish may wait for the broker's confirm before the gateway answers 503. */
  readonly publishTimeoutMs!: number;
  /** Jobs one user may have queued and running at once; a submission beyond answers 429. Admins included. */
  readonly maxJobsPerUser!: number;
  /** Output stored per job, in bytes (max_output_mb in the file); the rest is dropped and counted. */
  readonly maxOutputBytes!: number;
  /** Live streams one user may have open on one gateway; one more answers 429. Admins included. */
  readonly maxStreamsPerUser!: number;
  /** Live streams one gateway keeps open for all users together; one more answers 429. */
  readonly maxStreams!: number;
  /** Ansible jobs are forked from a pool of interpreters that imported Ansible once (false: each starts cold). */
  readonly warmRunner!: boolean;
  /** Prometheus metrics (GET /metrics, the HTTP timing middleware); false: neither. */
  readonly metrics!: boolean;
  /** The gateway's /metrics needs no credentials (else an admin's). */
  readonly metricsPublic!: boolean;
  /** Seconds a stopping runner lets its running jobs finish before it stops them (0: at once). */
  readonly shutdownGraceSeconds!: number;
  /** Browser origins that may call the API with credentials (CORS); none by default. */
  readonly corsOrigins!: readonly string[];
  /** Hosts and address ranges a webhook may reach although the SSRF rules refuse them (loopback, private, ...). */
  readonly webhookAllowedHosts!: readonly WebhookHostRule[];
  /** Attempts per webhook delivery, the first included, before it is given up. */
  readonly webhookMaxAttempts!: number;
  /** Waits before the second, third, ... attempt; the last one repeats when there are more attempts than waits. */
  readonly webhookRetryDelaysMs!: readonly number[];
  /** How long one attempt (resolving, connecting, the answer's headers) may take before it counts as failed. */
  readonly webhookTimeoutMs!: number;
  /** How often each gateway looks for webhook deliveries that are due. */
  readonly webhookPollIntervalMs!: number;

  constructor(values: Omit<FlansibleConfig, 'deployment'>) {
    Object.assign(this, values);
  }

  /** No broker URL → gateway and runner share one process over an in-process queue. */
  get deployment(): Deployment {
    return this.amqpUrl ? 'distributed' : 'embedded';
  }
}
