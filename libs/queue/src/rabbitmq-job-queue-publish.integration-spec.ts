import { JobHeaders, JobKind, Topology, jobRoutingKey } from '@flansible/contracts';
import { eventually } from '@flansible/testing';
import { commandJob, useJobQueueSpecBroker } from './testing/job-queue-spec-helpers';

// RabbitMqJobQueue publishing: the message, its headers, and the topology it declares.
const { openQueue, takeMessage, listQueues, listExchanges, listBindings } = useJobQueueSpecBroker('queue-publish-spec');

describe('RabbitMqJobQueue', () => {
  it('publishes a persistent, confirmed message carrying the job id, type and operator headers', async () => {
    const queue = openQueue();
    const job = commandJob();

    await queue.publish(job);

    const raw = await eventually(() => takeMessage(Topology.jobsQueue), 'the published message');
    expect(raw.fields.exchange).toBe(Topology.jobsExchange);
    expect(raw.fields.routingKey).toBe(jobRoutingKey(JobKind.Command));
    expect(raw.properties).toMatchObject({
      messageId: job.jobId,
      type: Topology.jobMessageType,
      contentType: 'application/json',
      deliveryMode: 2,
      appId: 'flansible-gateway',
    });
    expect(typeof raw.properties.timestamp).toBe('number');
    expect(raw.properties.headers).toMatchObject({
      [JobHeaders.kind]: JobKind.Command,
      [JobHeaders.user]: 'alice',
      [JobHeaders.inventory]: '/srv/inventories/hosts.yml',
    });
    expect(JSON.parse(raw.content.toString())).toEqual(job);
  });

  it('leaves the inventory header out for a git job', async () => {
    const queue = openQueue();
    const job = commandJob({
      spec: { kind: JobKind.Git, repoDir: '/srv/playbooks', remote: 'origin', branch: 'main', reset: false },
    });

    await queue.publish(job);

    const raw = await eventually(() => takeMessage(Topology.jobsQueue), 'the published message');
    expect(raw.fields.routingKey).toBe(jobRoutingKey(JobKind.Git));
    expect(raw.properties.headers).toHaveProperty(JobHeaders.kind, JobKind.Git);
    expect(raw.properties.headers).not.toHaveProperty(JobHeaders.inventory);
  });

  it('declares a durable quorum jobs queue with a delivery limit and dead-lettering, bound for every job kind', async () => {
    await openQueue().publish(commandJob());

    const queues = await listQueues();
    const jobs = queues.find((q) => q.name === Topology.jobsQueue);
    expect(jobs).toMatchObject({ type: 'quorum', durable: true });
    expect(JSON.stringify(jobs!.arguments)).toContain('x-delivery-limit');
    const args = Object.fromEntries(jobs!.arguments.map(([key, , value]) => [key, value]));
    expect(args).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': Topology.deliveryLimit,
      'x-dead-letter-exchange': Topology.deadLetterExchange,
    });
    expect(queues.find((q) => q.name === Topology.deadLetterQueue)).toMatchObject({ durable: true });

    const exchanges = await listExchanges();
    expect(exchanges.find((e) => e.name === Topology.jobsExchange)).toMatchObject({ type: 'direct', durable: true });
    expect(exchanges.find((e) => e.name === Topology.deadLetterExchange)).toMatchObject({ type: 'fanout', durable: true });

    const bindings = await listBindings();
    const jobKeys = bindings
      .filter((b) => b.source_name === Topology.jobsExchange && b.destination_name === Topology.jobsQueue)
      .map((b) => b.routing_key)
      .sort();
    expect(jobKeys).toEqual(Object.values(JobKind).map(jobRoutingKey).sort());
    expect(bindings).toContainEqual(
      expect.objectContaining({ source_name: Topology.deadLetterExchange, destination_name: Topology.deadLetterQueue }),
    );
  });
});
