import { eventually as sharedEventually, Truthy } from '@flansible/testing';
import {
  createFlansibleClient,
  FlansibleClient,
  GitUpdateRequest,
  RunCommandRequest,
  RunPlaybookRequest,
  SubmitCommandRequest,
  TaskStatus,
} from '@flansible/sdk';

export interface Credentials {
  user: string;
  password: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export type { TaskStatus };

/** Status and headers of the SDK's last answer: what the SDK's methods do not return. */
export interface SdkAnswer {
  method: string;
  url: string;
  status: number;
  headers: Headers;
}

/** The Flansible endpoints a task is submitted to, and the SDK call for each. */
const SUBMITTERS: Record<string, (sdk: FlansibleClient, body: unknown) => Promise<string>> = {
  '/api/ansiblecommand': (sdk, body) => sdk.runCommand(body as RunCommandRequest),
  '/api/ansibleplaybook': (sdk, body) => sdk.runPlaybook(body as RunPlaybookRequest),
  '/api/git': (sdk, body) => sdk.updateGitRepo(body as GitUpdateRequest),
  '/api/v1/jobs/command': async (sdk, body) => (await sdk.submitCommand(body as SubmitCommandRequest)).id,
};

/**
 * The suites' client for the Flansible API. The job flows go through the SDK (`sdk`), as an
 * application would; request() stays raw HTTP, for malformed bodies and exact status checks.
 */
export class ApiClient {
  /** The SDK, with this client's credentials. */
  readonly sdk: FlansibleClient;
  /** Set by each SDK request once it is answered. */
  lastSdkAnswer: SdkAnswer | null = null;

  constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials | null = { user: 'admin', password: 'admin' },
  ) {
    this.sdk = createFlansibleClient({
      baseUrl,
      ...(credentials ? { username: credentials.user, password: credentials.password } : {}),
      fetch: async (request) => {
        const response = await fetch(request);
        this.lastSdkAnswer = { method: request.method, url: request.url, status: response.status, headers: response.headers };
        return response;
      },
    });
  }

  as(credentials: Credentials | null): ApiClient {
    return new ApiClient(this.baseUrl, credentials);
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: { json?: unknown; rawBody?: string; contentType?: string; timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.credentials) {
      const token = Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString('base64');
      headers.authorization = `Basic ${token}`;
    }
    let body: string | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if (response.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  post<T = unknown>(path: string, json: unknown): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { json });
  }

  get<T = unknown>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }

  /** Submits through the SDK (runCommand, runPlaybook or updateGitRepo, by path) and returns the task id. */
  async submit(path: string, json: unknown): Promise<string> {
    const submitter = SUBMITTERS[path];
    if (!submitter) throw new Error(`no SDK call submits to ${path}`);
    return submitter(this.sdk, json);
  }

  status(taskId: string): Promise<TaskStatus> {
    return this.sdk.getTaskStatus(taskId);
  }

  output(taskId: string): Promise<string> {
    return this.sdk.getTaskOutput(taskId);
  }

  /** Polls like a Flansible client: until Status is no longer PROGRESS. */
  waitForTask(taskId: string, timeoutMs = 60_000): Promise<TaskStatus> {
    return this.sdk.waitForTask(taskId, { timeoutMs, intervalMs: 100 });
  }
}

/** The shared poll (libs/testing), with the longer default the end-to-end suites wait for processes. */
export function eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<Truthy<T>> {
  return sharedEventually(check, what, { timeoutMs, intervalMs: 100 });
}
