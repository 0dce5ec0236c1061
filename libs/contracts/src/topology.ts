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
  /**
   * Topic exchange for live notices ("job X has new output/events/status"), routing key
   * jobNoticeRoutingKey(id). Transient: the store holds the data, a notice only says "look now".
   */
  noticesExchange: 'flansible.notices',
  /** Fanout exchange for cancel requests to every runner. */
  controlExchange: 'flansible.control',
  /** AMQP message type of a job message. */
  jobMessageType: 'flansible.job.v1',
} as const;

export function jobRoutingKey(kind: string): string {
  return `job.${kind}`;
}

export function jobNoticeRoutingKey(jobId: string): string {
  return `job.${jobId}`;
}

/** Headers an operator can filter on in the management UI. */
export const JobHeaders = {
  kind: 'x-flansible-job-kind',
  user: 'x-flansible-user',
  inventory: 'x-flansible-inventory',
} as const;
