import { ArgumentsHost, Catch, CallHandler, Controller, ExecutionContext, INestApplication, Injectable, Logger, NestInterceptor, RpcExceptionFilter, UseFilters, UseInterceptors } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { Observable, tap, throwError } from 'rxjs';
import { JOB_MESSAGE_SCHEMA_VERSION, JobKind, JobMessage, JobPatterns, Topology, jobRoutingKey } from '@flansible/contracts';
import { JobDeliveryContext, JobQueueServer } from './job-queue.server';
import { RabbitMqJobQueue } from './rabbitmq-job-queue';
import { ThrowawayVhost, createThrowawayVhost } from './testing/throwaway-vhost';
import { eventually } from '@flansible/testing';

// JobQueueServer against the real broker: a Nest @EventPattern handler with an interceptor and an
// exception filter, fed by the RabbitMQ adapter in a throwaway vhost.
jest.setTimeout(30_000);

type Behaviour = (message: JobMessage, delivery: { redelivered: boolean }) => Promise<void>;
const seen: { jobId: string; redelivered: boolean }[] = [];
const intercepted: string[] = [];
const filtered: string[] = [];
let behaviour: Behaviour = async () => undefined;
let running = 0;
let mostRunning = 0;

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const message = context.switchToRpc().getData<JobMessage>();
    return next.handle().pipe(tap({ complete: () => intercepted.push(message.jobId) }));
  }
}

/** Records the error and passes it on, so the transport returns the message. */
@Catch()
class RecordingFilter implements RpcExceptionFilter<Error> {
  catch(error: Error, host: ArgumentsHost): Observable<never> {
    filtered.push(`${host.switchToRpc().getData<JobMessage>().jobId}: ${error.message}`);
    return throwError(() => error);
  }
}

@Controller()
class ProbeController {
  @EventPattern(JobPatterns.Queued)
  @UseInterceptors(RecordingInterceptor)
  @UseFilters(RecordingFilter)
  async handle(@Payload() message: JobMessage, @Ctx() context: JobDeliveryContext): Promise<void> {
    const delivery = context.getDelivery();
    seen.push({ jobId: message.jobId, redelivered: delivery.redelivered });
    mostRunning = Math.max(mostRunning, ++running);
    try {
      await behaviour(message, delivery);
    } finally {
      running--;
    }
  }
}

let throwaway: ThrowawayVhost;
let admin: Awaited<ReturnType<typeof amqplib.connect>>;
let channel: amqplib.Channel;
let app: INestApplication;
let queue: RabbitMqJobQueue;

const job = (): JobMessage => ({
  schemaVersion: JOB_MESSAGE_SCHEMA_VERSION,
  jobId: randomUUID(),
  submittedBy: 'alice',
  submittedAt: new Date().toISOString(),
  spec: { kind: JobKind.Command, hostPattern: 'all', module: 'ping', inventoryPath: '/srv/inventories/hosts' },
});

const messagesIn = async (name: string) => (await channel.checkQueue(name)).messageCount;

beforeAll(async () => {
  Logger.overrideLogger(false);
  throwaway = await createThrowawayVhost('transport-spec');
  admin = await amqplib.connect(throwaway.url());
  channel = await admin.createChannel();
  queue = new RabbitMqJobQueue({ url: throwaway.url(), publishTimeoutMs: 5000, connectionName: `transport-spec@${process.pid}` });
  const moduleRef = await Test.createTestingModule({ controllers: [ProbeController] }).compile();
  app = await moduleRef.createNestApplication().init();
  app.connectMicroservice({ strategy: new JobQueueServer(queue, 2) });
  await app.startAllMicroservices();
});

afterAll(async () => {
  await app?.close();
  await queue?.close();
  await admin?.close().catch(() => undefined);
  await throwaway?.remove();
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
});

beforeEach(() => {
  seen.length = intercepted.length = filtered.length = 0;
  behaviour = async () => undefined;
  mostRunning = 0;
});

describe('JobQueueServer', () => {
  it('hands each message to the @EventPattern handler through its interceptor, and acks it once the handler resolved', async () => {
    const message = job();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    behaviour = () => held;
    await queue.publish(message);
    await eventually(() => seen.length === 1, 'the delivery');
    expect(intercepted).toEqual([]);
    release();
    await eventually(() => intercepted.length === 1, 'the interceptor');
    expect(seen).toEqual([{ jobId: message.jobId, redelivered: false }]);
    expect(intercepted).toEqual([message.jobId]);
    expect(filtered).toEqual([]);
    expect(await messagesIn(Topology.jobsQueue)).toBe(0);
  });

  it('returns the message when the handler rejects (after its exception filter), and it comes back redelivered', async () => {
    const message = job();
    behaviour = async (_m, delivery) => {
      if (!delivery.redelivered) throw new Error('store unavailable');
    };
    await queue.publish(message);
    await eventually(() => intercepted.length === 1, 'the second, successful delivery');
    expect(seen).toEqual([
      { jobId: message.jobId, redelivered: false },
      { jobId: message.jobId, redelivered: true },
    ]);
    expect(filtered).toEqual([`${message.jobId}: store unavailable`]);
    expect(await messagesIn(Topology.jobsQueue)).toBe(0);
  });

  it('dead-letters an unreadable message without calling the handler', async () => {
    channel.publish(Topology.jobsExchange, jobRoutingKey(JobKind.Command), Buffer.from('{not json'), { messageId: 'garbage', persistent: true });
    const dead = await eventually(() => channel.get(Topology.deadLetterQueue, { noAck: true }), 'the dead letter');
    expect(dead && dead.properties.messageId).toBe('garbage');
    expect(seen).toEqual([]);
  });

  it('runs at most `concurrency` handlers at once (prefetch)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    behaviour = () => held;
    for (let i = 0; i < 4; i++) await queue.publish(job());
    await eventually(() => seen.length === 2, 'two deliveries');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toHaveLength(2);
    release();
    await eventually(() => intercepted.length === 4, 'all four');
    expect(mostRunning).toBe(2);
  });
});
