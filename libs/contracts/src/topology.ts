/** RabbitMQ names, defined once; readable in the management UI. */
export const Topology = {
  /** Direct exchange the gateway publishes jobs to. */
  jobsExchange: 'flansible.jobs',
  /** Durable quorum queue the runners consume. */
  jobsQueue: 'flansible.jobs',
  /** Where messages go after too many failed deliveries or when unreadable. */
  deadLetterExchange: 'flansible.jobs.dead',
  deadLetterQueue: 'flansible.jobs.dead',
  /** Deliveries of one message before it is dead-lettered. */
  deliveryLimit: 5,
  /** AMQP message type of a job message. */
  jobMessageType: 'flansible.job.v1',
} as const;

export function jobRoutingKey(kind: string): string {
  return `job.${kind}`;
}

/** Headers an operator can filter on in the management UI. */
export const JobHeaders = {
  kind: 'x-flansible-job-kind',
  user: 'x-flansible-user',
  inventory: 'x-flansible-inventory',
} as const;
