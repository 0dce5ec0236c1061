import createClient, { type Client } from 'openapi-fetch';
import { basicAuthorization } from './basic-auth';
import { commaSeparated, idempotency, isoTime, ok, poll, text } from './client-results';
import { followJobStream } from './follow-job';
import type { components, paths } from './generated/openapi';
import {
  isTerminalJobStatus,
  type ApiTokenList,
  type CreateApiTokenRequest,
  type CreatedApiToken,
  type CreatedWebhook,
  type CreateWebhookRequest,
  type EventPage,
  type FollowJobOptions,
  type GitUpdateRequest,
  type Health,
  type JobEventsQuery,
  type JobPage,
  type JobResource,
  type JobStreamMessage,
  type JobSummary,
  type ListApiTokensQuery,
  type ListJobsQuery,
  type ListedPlaybook,
  type OutputPage,
  type OutputRange,
  type RelaunchHosts,
  type RunCommandRequest,
  type RunPlaybookRequest,
  type SubmitCommandRequest,
  type SubmitOptions,
  type SubmitPlaybookRequest,
  type TaskStatus,
  type WaitOptions,
  type Webhook,
  type WebhookAttempt,
  type WebhookDeliveriesQuery,
} from './types';

export interface FlansibleClientOptions {
  /** Where the gateway listens, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** HTTP Basic credentials (a user in the server's rbac.json), sent with every request. */
  username?: string;
  password?: string;
  /** Or an API token (`flt_...`, from createToken), sent as `Authorization: Bearer`. */
  token?: string;
  /** A fetch to use instead of the global one (for proxies, tests, instrumentation). */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers added to every request. */
  headers?: Record<string, string>;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A client for a Flansible server, configured once with its URL and credentials. */
export function createFlansibleClient(options: FlansibleClientOptions): FlansibleClient {
  return new FlansibleClient(options);
}

/**
 * Every Flansible endpoint as a typed method. Each resolves with the answer's body and rejects
 * with FlansibleApiError (carrying the server's error body) when the server refuses.
 * `raw` is the generated client underneath, for status codes and headers.
 */
export class FlansibleClient {
  /** The openapi-fetch client generated from openapi.json: `raw.GET('/api/v1/jobs/{id}', ...)`. */
  readonly raw: Client<paths>;
  readonly baseUrl: string;

  constructor(options: FlansibleClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined && options.username !== undefined) {
      throw new TypeError('Give the Flansible client either a token or a username and password, not both');
    }
    if (options.username !== undefined) {
      headers.Authorization = basicAuthorization(options.username, options.password ?? '');
    }
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    this.raw = createClient<paths>({ baseUrl: this.baseUrl, headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
  }

  // The Flansible-compatible endpoints: the task id is all a submission answers.

  /** Runs an ad-hoc command (`POST /api/ansiblecommand`); resolves with the task id. */
  async runCommand(body: RunCommandRequest, options: CallOptions = {}): Promise<string> {
    const spec = body as unknown as components['schemas']['AnsibleCommandDto']; // module_args may be a string (see ModuleArgs)
    return (await ok('POST /api/ansiblecommand', this.raw.POST('/api/ansiblecommand', { body: spec, signal: options.signal }))).task_id;
  }

  /** Runs a playbook (`POST /api/ansibleplaybook`); resolves with the task id. */
  async runPlaybook(body: RunPlaybookRequest, options: CallOptions = {}): Promise<string> {
    return (await ok('POST /api/ansibleplaybook', this.raw.POST('/api/ansibleplaybook', { body, signal: options.signal }))).task_id;
  }

  /** Updates a playbook repository (`POST /api/git`: git pull, or fetch + hard reset); resolves with the task id. */
  async updateGitRepo(body: GitUpdateRequest, options: CallOptions = {}): Promise<string> {
    return (await ok('POST /api/git', this.raw.POST('/api/git', { body, signal: options.signal }))).task_id;
  }

  /** PROGRESS while queued or running, then SUCCESS or FLANSIBLE_TASK_FAILURE. */
  getTaskStatus(taskId: string, options: CallOptions = {}): Promise<TaskStatus> {
    return ok(
      `GET /api/ansibletaskstatus/${taskId}`,
      this.raw.GET('/api/ansibletaskstatus/{task_id}', { params: { path: { task_id: taskId } }, signal: options.signal }),
    );
  }

  /** The combined output so far, as a terminal shows it ('' before the job prints anything). */
  getTaskOutput(taskId: string, options: CallOptions = {}): Promise<string> {
    return text(
      `GET /api/ansibletaskoutput/${taskId}`,
      this.raw.GET('/api/ansibletaskoutput/{task_id}', {
        params: { path: { task_id: taskId } },
        parseAs: 'text',
        signal: options.signal,
      }),
    );
  }

  /** Polls the task's status, as Flansible clients do, until it is no longer PROGRESS. */
  waitForTask(taskId: string, options: WaitOptions = {}): Promise<TaskStatus> {
    return poll(`task ${taskId}`, () => this.getTaskStatus(taskId, options), (status) => status.Status !== 'PROGRESS', options);
  }

  /** Every playbook under the server's playbook root, in the shape runPlaybook takes. */
  listPlaybooks(options: CallOptions = {}): Promise<ListedPlaybook[]> {
    return ok('GET /api/listplaybooks', this.raw.GET('/api/listplaybooks', { signal: options.signal }));
  }

  /** Liveness, without credentials. */
  getHealth(options: CallOptions = {}): Promise<Health> {
    return ok('GET /api/health', this.raw.GET('/api/health', { signal: options.signal }));
  }

  // The v1 resource API.

  /** Launches an ad-hoc command (`POST /api/v1/jobs/command`); resolves with the queued job. */
  submitCommand(body: SubmitCommandRequest, options: SubmitOptions = {}): Promise<JobResource> {
    const spec = body as unknown as components['schemas']['SubmitCommandJobDto']; // module_args may be a string (see ModuleArgs)
    return ok(
      'POST /api/v1/jobs/command',
      this.raw.POST('/api/v1/jobs/command', { body: spec, params: { header: idempotency(options) }, signal: options.signal }),
    );
  }

  /** Launches a playbook (`POST /api/v1/jobs/playbook`); resolves with the queued job. */
  submitPlaybook(body: SubmitPlaybookRequest, options: SubmitOptions = {}): Promise<JobResource> {
    return ok(
      'POST /api/v1/jobs/playbook',
      this.raw.POST('/api/v1/jobs/playbook', { body, params: { header: idempotency(options) }, signal: options.signal }),
    );
  }

  /** One job: status, reason, return code, who, what, timings, runner. */
  getJob(id: string, options: CallOptions = {}): Promise<JobResource> {
    return ok(`GET /api/v1/jobs/${id}`, this.raw.GET('/api/v1/jobs/{id}', { params: { path: { id } }, signal: options.signal }));
  }

  /** History, newest first; pass `next_cursor` as `cursor` for the next page. */
  listJobs(query: ListJobsQuery = {}, options: CallOptions = {}): Promise<JobPage> {
    const { status, created_before, created_after, ...rest } = query;
    return ok(
      'GET /api/v1/jobs',
      this.raw.GET('/api/v1/jobs', {
        params: {
          query: {
            ...rest,
            status: commaSeparated(status),
            created_before: isoTime(created_before),
            created_after: isoTime(created_after),
          },
        },
        signal: options.signal,
      }),
    );
  }

  /** A range of output lines as JSON (default: the first 10,000). */
  getJobOutput(id: string, range: OutputRange = {}, options: CallOptions = {}): Promise<OutputPage> {
    return ok(
      `GET /api/v1/jobs/${id}/output`,
      this.raw.GET('/api/v1/jobs/{id}/output', {
        params: { path: { id }, query: range },
        headers: { Accept: 'application/json' },
        signal: options.signal,
      }),
    ) as Promise<OutputPage>;
  }

  /** The same range as text, each line ending in a newline. */
  getJobOutputText(id: string, range: OutputRange = {}, options: CallOptions = {}): Promise<string> {
    return text(
      `GET /api/v1/jobs/${id}/output`,
      this.raw.GET('/api/v1/jobs/{id}/output', {
        params: { path: { id }, query: range },
        headers: { Accept: 'text/plain' },
        parseAs: 'text',
        signal: options.signal,
      }),
    );
  }

  /** The whole output as text, however long (the `download=true` attachment). */
  downloadJobOutput(id: string, options: CallOptions = {}): Promise<string> {
    return text(
      `GET /api/v1/jobs/${id}/output?download=true`,
      this.raw.GET('/api/v1/jobs/{id}/output', {
        params: { path: { id }, query: { download: true } },
        parseAs: 'text',
        signal: options.signal,
      }),
    );
  }

  /** Structured events, oldest first; pass `next_after` as `after` for the next page. */
  getJobEvents(id: string, query: JobEventsQuery = {}, options: CallOptions = {}): Promise<EventPage> {
    const { type, ...rest } = query;
    return ok(
      `GET /api/v1/jobs/${id}/events`,
      this.raw.GET('/api/v1/jobs/{id}/events', {
        params: { path: { id }, query: { ...rest, type: commaSeparated(type) } },
        signal: options.signal,
      }),
    );
  }

  /** Per-host counts (ok, changed, failed, unreachable, skipped, rescued, ignored). */
  getJobSummary(id: string, options: CallOptions = {}): Promise<JobSummary> {
    return ok(`GET /api/v1/jobs/${id}/summary`, this.raw.GET('/api/v1/jobs/{id}/summary', { params: { path: { id } }, signal: options.signal }));
  }

  /**
   * Relaunches a finished job (`POST /api/v1/jobs/{id}/relaunch`) on all, the failed, the
   * unreachable or the failed and unreachable hosts of its results; resolves with the new job,
   * whose `relaunch_of` is `id`. The server reuses the job's own request, extra vars included.
   */
  relaunchJob(id: string, hosts: RelaunchHosts, options: SubmitOptions = {}): Promise<JobResource> {
    return ok(
      `POST /api/v1/jobs/${id}/relaunch`,
      this.raw.POST('/api/v1/jobs/{id}/relaunch', {
        params: { path: { id }, header: idempotency(options) },
        body: { hosts },
        signal: options.signal,
      }),
    );
  }

  /** Cancels: a queued job never starts, a running one's process tree is stopped. Ended jobs stay as they are. */
  cancelJob(id: string, options: CallOptions = {}): Promise<JobResource> {
    return ok(
      `POST /api/v1/jobs/${id}/cancel`,
      this.raw.POST('/api/v1/jobs/{id}/cancel', { params: { path: { id } }, signal: options.signal }),
    );
  }

  /** Polls the job until it has ended (successful, failed, canceled, timed_out or error). */
  waitForJob(id: string, options: WaitOptions = {}): Promise<JobResource> {
    return poll(`job ${id}`, () => this.getJob(id, options), (job) => isTerminalJobStatus(job.status), options);
  }

  // Webhooks.

  /**
   * Subscribes to job.started / job.finished of the jobs this user may read. The answer carries
   * the signing secret (`whsec_...`) this once: keep it to verify each delivery's signature.
   */
  createWebhook(body: CreateWebhookRequest, options: CallOptions = {}): Promise<CreatedWebhook> {
    return ok('POST /api/v1/webhooks', this.raw.POST('/api/v1/webhooks', { body, signal: options.signal }));
  }

  /** This user's webhooks (an admin's: everyone's), oldest first, without their secrets. */
  async listWebhooks(options: CallOptions = {}): Promise<Webhook[]> {
    return (await ok('GET /api/v1/webhooks', this.raw.GET('/api/v1/webhooks', { signal: options.signal }))).items;
  }

  getWebhook(id: string, options: CallOptions = {}): Promise<Webhook> {
    return ok(`GET /api/v1/webhooks/${id}`, this.raw.GET('/api/v1/webhooks/{id}', { params: { path: { id } }, signal: options.signal }));
  }

  /** Unsubscribes: nothing more is sent, pending retries included. */
  async deleteWebhook(id: string, options: CallOptions = {}): Promise<void> {
    await ok(`DELETE /api/v1/webhooks/${id}`, this.raw.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } }, signal: options.signal }));
  }

  /** The latest delivery attempts, newest first: status code, time, error. */
  async listWebhookDeliveries(id: string, query: WebhookDeliveriesQuery = {}, options: CallOptions = {}): Promise<WebhookAttempt[]> {
    const page = await ok(
      `GET /api/v1/webhooks/${id}/deliveries`,
      this.raw.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id }, query }, signal: options.signal }),
    );
    return page.items;
  }

  /**
   * The job's live stream: `output`, `event` and `status` messages as they happen, ending with
   * `end`. Survives dropped connections (resuming with Last-Event-ID, without loss or repeats);
   * throws FlansibleApiError if the server refuses (e.g. 404), FlansibleStreamError if it stays
   * unreachable. Breaking out of the loop closes the connection.
   *
   *     for await (const message of client.followJob(id)) {
   *       if (message.type === 'output') message.data.lines.forEach((line) => console.log(line));
   *     }
   */
  followJob(id: string, options: FollowJobOptions = {}): AsyncGenerator<JobStreamMessage, void, undefined> {
    return followJobStream(async (lastEventId, signal) => {
      const result = this.raw.GET('/api/v1/jobs/{id}/stream', {
        params: { path: { id }, header: lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId } },
        headers: { Accept: 'text/event-stream' },
        parseAs: 'stream',
        signal,
      });
      const body = await ok(`GET /api/v1/jobs/${id}/stream`, result);
      if (!body) throw new Error('the stream answered without a body');
      return body as ReadableStream<Uint8Array>;
    }, options);
  }

  // API tokens.

  /**
   * Issues an API token for the caller (`POST /api/v1/tokens`). The answer's `token` is shown this
   * once: keep it, then `createFlansibleClient({ baseUrl, token })`.
   */
  createToken(body: CreateApiTokenRequest, options: CallOptions = {}): Promise<CreatedApiToken> {
    return ok('POST /api/v1/tokens', this.raw.POST('/api/v1/tokens', { body, signal: options.signal }));
  }

  /** The caller's tokens, newest first, without the tokens themselves; admins may pass `user` or `all`. */
  listTokens(query: ListApiTokensQuery = {}, options: CallOptions = {}): Promise<ApiTokenList> {
    return ok('GET /api/v1/tokens', this.raw.GET('/api/v1/tokens', { params: { query }, signal: options.signal }));
  }

  /** Revokes a token: every gateway refuses it from then on. */
  async revokeToken(id: string, options: CallOptions = {}): Promise<void> {
    await ok(`DELETE /api/v1/tokens/${id}`, this.raw.DELETE('/api/v1/tokens/{id}', { params: { path: { id } }, signal: options.signal }));
  }
}
