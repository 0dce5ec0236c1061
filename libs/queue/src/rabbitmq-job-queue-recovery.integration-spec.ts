import { AddressInfo, Socket, createServer } from 'node:net';
import { Topology } from '@flansible/contracts';
import { eventually } from '@flansible/testing';
import { QueueUnavailableError } from './job-queue';
import { BrokerProxy } from './testing/broker-proxy';
import { commandJob, publishes, useJobQueueSpecBroker } from './testing/job-queue-spec-helpers';

// RabbitMqJobQueue recovery: a broker down or unreachable, a channel closed, a queue deleted, a job unroutable.
const { openQueue, brokerUrl, onCleanup, adminChannel, takeMessage, readyCount, consumerCount } =
  useJobQueueSpecBroker('queue-recovery-spec');

describe('RabbitMqJobQueue', () => {
  it('rejects with QueueUnavailableError when the broker is unreachable, and closes promptly', async () => {
    const queue = openQueue({ url: 'amqp://guest:guest@127.0.0.1:1/', publishTimeoutMs: 3000 });

    await expect(queue.publish(commandJob())).rejects.toBeInstanceOf(QueueUnavailableError);
    // Already known to be down: fails without waiting for a timeout.
    await expect(queue.publish(commandJob())).rejects.toThrow(/cannot connect/);
    await queue.close();
    await queue.close(); // idempotent
  });

  it('gives up after publishTimeoutMs when the broker accepts TCP but never answers', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    const sockets = new Set<Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onCleanup(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as AddressInfo;
    const queue = openQueue({ url: brokerUrl(port), publishTimeoutMs: 300, connectTimeoutMs: 10_000 });

    await expect(queue.publish(commandJob())).rejects.toThrow(QueueUnavailableError);
    await queue.close();
  });

  it('starts while the broker is down, recovers when it is back, and never sends a publish that failed', async () => {
    const proxy = await BrokerProxy.onFreePort();
    onCleanup(() => proxy.stop());
    const queue = openQueue({ url: brokerUrl(proxy.port), publishTimeoutMs: 2000 });
    const failedJob = commandJob();

    await expect(queue.publish(failedJob)).rejects.toBeInstanceOf(QueueUnavailableError);

    await proxy.start();
    const laterJob = commandJob();
    await eventually(() => publishes(queue, laterJob), 'a publish after the broker is back');

    const handled: string[] = [];
    await queue.consume(async (message) => {
      handled.push(message.jobId);
    }, 1);
    await eventually(() => handled.length >= 1, 'the delivery');

    // Broker "restarts": the consumer comes back by itself on the new connection.
    await proxy.stop();
    await expect(queue.publish(commandJob())).rejects.toBeInstanceOf(QueueUnavailableError);
    await proxy.start();
    const afterRestart = commandJob();
    await eventually(() => publishes(queue, afterRestart), 'a publish after the restart');
    await eventually(() => handled.includes(afterRestart.jobId), 'the delivery after the restart');

    // Each failed publish stayed failed: only the confirmed ones ever reached the queue.
    expect(handled).not.toContain(failedJob.jobId);
    expect(new Set(handled)).toEqual(new Set([laterJob.jobId, afterRestart.jobId]));
  });

  it('reopens its channel and redeclares the topology when the broker closes the channel under it', async () => {
    const queue = openQueue();
    await queue.publish(commandJob());
    await adminChannel().deleteExchange(Topology.jobsExchange);

    // Publishing to the vanished exchange makes the broker close the channel (404).
    await expect(queue.publish(commandJob())).rejects.toBeInstanceOf(QueueUnavailableError);

    const job = commandJob();
    await eventually(() => publishes(queue, job), 'a publish after recovery');
    const raw = await eventually(async () => {
      const message = await takeMessage(Topology.jobsQueue);
      return message && message.properties.messageId === job.jobId ? message : null;
    }, 'the job in the redeclared topology');
    expect(raw.fields.exchange).toBe(Topology.jobsExchange);
  });

  it('starts consuming again when the jobs queue is deleted under its consumer', async () => {
    const queue = openQueue();
    const handled: string[] = [];
    await queue.consume(async (message) => {
      handled.push(message.jobId);
    }, 1);
    const first = commandJob();
    await queue.publish(first);
    await eventually(() => handled.includes(first.jobId), 'the first delivery');

    // The broker cancels the consumer, which redeclares the queue and consumes it again.
    await adminChannel().deleteQueue(Topology.jobsQueue);
    await eventually(async () => (await consumerCount(Topology.jobsQueue)) === 1, 'the restored consumer');

    const second = commandJob();
    await eventually(() => publishes(queue, second), 'a publish after recovery');
    await eventually(() => handled.includes(second.jobId), 'a delivery to the restored consumer');
  });

  it('declares the topology again when a job comes back unroutable, and reports that publish as failed', async () => {
    const queue = openQueue();
    await queue.publish(commandJob());
    await adminChannel().deleteQueue(Topology.jobsQueue);

    const lost = commandJob();
    await expect(queue.publish(lost)).rejects.toThrow(/could not route/);

    const job = commandJob();
    await eventually(() => publishes(queue, job), 'a publish after the redeclaration');
    const raw = await eventually(() => takeMessage(Topology.jobsQueue), 'the job');
    expect(raw.properties.messageId).toBe(job.jobId);
    expect(await readyCount(Topology.jobsQueue)).toBe(0);
  });
});
