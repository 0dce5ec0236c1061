/** RabbitMQ names, defined once; readable in the management UI. */
export const Topology = {
  /** Direct exchange the gateway publishes jobs to. */
  jobsExchange: 'flansible.jobs',
  /** Durable quorum queue the runners consume. */
  jobsQueue: 'flansible.jobs',
  /** Where messages go after too many failed deliveries or when unreadable. */
  deadLetterExchange: 'flansible.jobs.dead',
  deadLetterQueue: 'flansible.jobs.dead',
  /**
   * Failed deliveries of one message before it is dead-lettered: the first delivery plus this many
   * retries. Counted by the retries header for failed handlers, and by the quorum queue's
   * x-delivery-limit for runners that died holding the message.
   */
  deliveryLimit: 5,
  /**
   * How long a message whose handler failed waits before it comes back, by retry (the first retry
   * waits 1 s, the fifth 16 s): a store fault of a few seconds costs a few seconds, never the job.
   * 31 s of failures in all before the dead-letter queue.
   */
  retryDelaysMs: [1000, 2000, 4000, 8000, 16000],
  /** Durable queues where a returned message waits out its delay, one per delay (retryQueueName). */
  retryQueuePrefix: 'flansible.jobs.retry.',
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

/** `flansible.jobs.retry.1s`: the queue a message waits `delayMs` in before it returns to the jobs queue. */
export function retryQueueName(delayMs: number): string {
  return `${Topology.retryQueuePrefix}${delayMs % 1000 === 0 ? `${delayMs / 1000}s` : `${delayMs}ms`}`;
}

export function jobNoticeRoutingKey(jobId: string): string {
  return `job.${jobId}`;
}

/** Headers an operator can filter on in the management UI. */
export const JobHeaders = {
  kind: 'x-flansible-job-kind',
  user: 'x-flansible-user',
  inventory: 'x-flansible-inventory',
  /** How many times the message came back after a failed delivery (the retries spent so far). */
  retries: 'x-flansible-retries',
  /** The HTTP request that submitted the job (X-Request-Id): greppable in every log. */
  requestId: 'x-flansible-request-id',
} as const;
