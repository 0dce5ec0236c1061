import { BrokerProxy } from '../libs/queue/src/testing/broker-proxy';
import { eventually } from './support/api-client';
import { Deployment } from './support/deployment';
import { FlansibleProcess, GATEWAY_MAIN, freePort } from './support/flansible-process';

jest.setTimeout(120_000);

type Part = 'store' | 'queue';

/** The URL with its port replaced: the same service, reached through a proxy. */
function through(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

function matches(actual: unknown, expected: unknown): boolean {
  try {
    expect(actual).toEqual(expected);
    return true;
  } catch {
    return false;
  }
}

/**
 * Readiness of a gateway and a runner whose broker and database sit behind TCP proxies: taking a
 * proxy down is an outage of what is behind it, for these two processes only.
 */
describe('readiness (distributed)', () => {
  const deployment = new Deployment('distributed', { runners: 0 });
  let broker: BrokerProxy;
  let database: BrokerProxy;
  let gateway: FlansibleProcess;
  let gatewayUrl = '';
  let runnerUrl = '';

  beforeAll(async () => {
    await deployment.boot();
    broker = await BrokerProxy.onFreePort();
    database = await BrokerProxy.onFreePort(5432);
    await broker.start();
    await database.start();
    const env = {
      FLANSIBLE_AMQP_URL: through(deployment.env.FLANSIBLE_AMQP_URL, broker.port),
      FLANSIBLE_DATABASE_URL: through(deployment.env.FLANSIBLE_DATABASE_URL, database.port),
    };
    const port = await freePort();
    gateway = FlansibleProcess.start('gateway-proxied', GATEWAY_MAIN, { ...deployment.env, ...env, FLANSIBLE_PORT: String(port) });
    await gateway.waitForLog(/listening on http/);
    gatewayUrl = `http://127.0.0.1:${port}/api/health/ready`;
    await deployment.startRunner(env);
    runnerUrl = `${deployment.runnerUrls[0]}/health/ready`;
  });

  afterAll(async () => {
    await gateway?.stop();
    await broker?.stop();
    await database?.stop();
    await deployment.stop();
  }, 60_000);

  /** What both processes answer, once they answer it (without credentials). */
  async function bothAnswer(status: number, down: Part[]): Promise<void> {
    const expected = down.length
      ? { statusCode: 503, error: 'Service Unavailable', message: `Not ready: ${down.join(' and ')} unavailable`, details: down }
      : { status: 'ok', checks: { store: { status: 'up' }, queue: { status: 'up' } } };
    for (const url of [gatewayUrl, runnerUrl]) {
      let last: unknown;
      const answer = await eventually(async () => {
        const res = await fetch(url);
        const body: unknown = await res.json();
        last = { status: res.status, body };
        return res.status === status && matches(body, expected) && body;
      }, `${url} to answer ${status} with ${down.join(', ') || 'nothing'} down`).catch((err: Error) => {
        throw new Error(`${err.message}; last answer ${JSON.stringify(last)}`);
      });
      // Parts are named, never described: no URL, host or error text.
      expect(answer).toEqual(expected);
    }
  }

  it('answers 200 while the broker and the database are reachable', async () => {
    await bothAnswer(200, []);
  });

  it('answers 503 naming the queue while the broker is unreachable, and 200 again once it is back', async () => {
    await broker.stop();
    await bothAnswer(503, ['queue']);
    await broker.start();
    await bothAnswer(200, []);
  });

  it('answers 503 naming the store while the database is unreachable, and 200 again once it is back', async () => {
    await database.stop();
    await bothAnswer(503, ['store']);
    await database.start();
    await bothAnswer(200, []);
  });
});
