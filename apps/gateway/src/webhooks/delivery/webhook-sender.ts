import { Injectable } from '@nestjs/common';
import { request as httpRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LookupFunction } from 'node:net';
import { WebhookTarget } from '../target/webhook-target.policy';

/** What the receiver answered: its status code (any, 2xx or not). */
export interface WebhookAnswer {
  statusCode: number;
}

/** An attempt that got no HTTP answer; the message is the one line the deliveries API shows. */
export class WebhookSendError extends Error {}

/** The failure of an attempt that ran out of time, wherever it was (resolving, connecting, waiting). */
export function noAnswerWithin(timeoutMs: number): WebhookSendError {
  return new WebhookSendError(`no answer within ${timeoutMs / 1000} s`);
}

/** How much of an answer's body is read (and thrown away) before the connection is closed. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * A lookup that answers with the addresses the target policy checked and nothing else, so the
 * connection goes where the check looked even if the host's DNS answer changes in between (DNS
 * rebinding). The host name still goes into the Host header and TLS SNI, and the certificate is
 * checked against it.
 */
function pinnedLookup(target: WebhookTarget): LookupFunction {
  return (_host, options, callback) => {
    const candidates = target.addresses.filter((a) => !options.family || a.family === options.family);
    if (candidates.length === 0) {
      callback(Object.assign(new Error(`no checked address of family ${options.family}`), { code: 'ENOTFOUND' }), '', 4);
    } else if (options.all) {
      // Node's typing names the one-address form only; with `all` (happy eyeballs) it expects the list.
      (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, candidates);
    } else {
      callback(null, candidates[0].address, candidates[0].family);
    }
  };
}

/** The one line an attempt's failure is recorded as: what went wrong, never a header or a body. */
function describe(err: NodeJS.ErrnoException, timeoutMs: number): string {
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return noAnswerWithin(timeoutMs).message;
  const byCode: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host does not resolve',
    EPIPE: 'connection closed while sending',
  };
  return (err.code && byCode[err.code]) ?? err.message.split('\n')[0].slice(0, 300);
}

/**
 * POSTs one webhook body to a checked target: a fresh connection to a checked address (no
 * keep-alive pool, which could hold a connection made for another answer), no redirects
 * followed (a 3xx is an answer like any other non-2xx), and everything from connecting to the
 * answer's status line within `signal`.
 */
@Injectable()
export class WebhookSender {
  post(target: WebhookTarget, headers: Record<string, string>, body: string, signal: AbortSignal, timeoutMs: number): Promise<WebhookAnswer> {
    const https = target.url.protocol === 'https:';
    const options: RequestOptions = {
      method: 'POST',
      hostname: target.host,
      port: target.url.port || (https ? 443 : 80),
      path: `${target.url.pathname}${target.url.search}`,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Flansible-Webhooks/1' },
      agent: false,
      lookup: pinnedLookup(target),
      signal,
    };
    return new Promise<WebhookAnswer>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        resolve({ statusCode: res.statusCode ?? 0 });
        drainThenClose(res);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(new WebhookSendError(describe(err, timeoutMs))));
      req.end(body);
    });
  }
}

/** Reads a little of the answer so the receiver is not cut off mid-write, then lets go of the connection. */
function drainThenClose(res: IncomingMessage): void {
  let read = 0;
  res.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > MAX_BODY_BYTES) res.destroy();
  });
  res.on('error', () => undefined);
}
