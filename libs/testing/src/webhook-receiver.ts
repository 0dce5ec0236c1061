import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, and whether its Standard Webhooks signature verified. */
export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What Webhook.verify returned (the parsed body), or undefined when it threw. */
  payload: unknown;
  /** Webhook.verify's error message, or null when the signature verified. */
  verifyError: string | null;
  /** The status the receiver answered with. */
  status: number;
  receivedAt: number;
}

/**
 * A real HTTP receiver on loopback for the webhook specs, e2e suites and the bench: it checks
 * every request with the standardwebhooks package's Webhook.verify (headers, timestamp, HMAC)
 * against the secret of the path it arrived on, records it, and answers what the spec asks for
 * (by default 204).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The status of the next answer, from what was received so far (this request included). */
  answer: (request: ReceivedWebhook) => number = () => 204;
  /** Milliseconds to wait before answering (to run past a sender's timeout). */
  delayMs = 0;
  /** While set, answers wait for it: a spec holds an attempt open until it has changed something. */
  hold: Promise<void> | null = null;
  private readonly secrets = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => void receiver!.handle(req).then((status) => res.writeHead(status).end(), () => res.writeHead(500).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  /** Verifies what arrives on `path` with this subscription secret (whsec_...). */
  verifyWith(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  /** What arrived on `path`, in order. */
  on(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const path = req.url ?? '/';
    const secret = this.secrets.get(path);
    let payload: unknown;
    let verifyError: string | null = null;
    try {
      if (!secret) throw new Error(`no secret for ${path}`);
      payload = new Webhook(secret).verify(body, headers);
    } catch (err) {
      verifyError = (err as Error).message;
    }
    const request: ReceivedWebhook = { path, headers, body, payload, verifyError, status: 0, receivedAt: Date.now() };
    this.received.push(request);
    request.status = this.answer(request);
    if (this.hold) await this.hold;
    // unref: an answer still held back must not keep a finished spec's process alive.
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs).unref());
    return request.status;
  }
}
