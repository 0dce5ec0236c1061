/** A small HTTP client for the Flansible API, as any script would use it. */
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

export interface TaskStatus {
  Status: 'PROGRESS' | 'SUCCESS' | 'FLANSIBLE_TASK_FAILURE';
  description: string;
  returncode: number | null;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials | null = { user: 'admin', password: 'admin' },
  ) {}

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

  /** Submits and returns the task id, failing with the answer if it was not 200. */
  async submit(path: string, json: unknown): Promise<string> {
    const res = await this.post<{ task_id: string }>(path, json);
    if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status}: ${res.text}`);
    return res.body.task_id;
  }

  async status(taskId: string): Promise<TaskStatus> {
    const res = await this.get<TaskStatus>(`/api/ansibletaskstatus/${taskId}`);
    if (res.status !== 200) throw new Error(`status of ${taskId} answered ${res.status}: ${res.text}`);
    return res.body;
  }

  async output(taskId: string): Promise<string> {
    return (await this.get<string>(`/api/ansibletaskoutput/${taskId}`)).text;
  }

  /** Polls like a Flansible client: until Status is no longer PROGRESS. */
  async waitForTask(taskId: string, timeoutMs = 60_000): Promise<TaskStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status(taskId);
      if (status.Status !== 'PROGRESS') return status;
      if (Date.now() > deadline) throw new Error(`task ${taskId} still in PROGRESS after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Polls `check` until it returns a truthy value. */
export async function eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
