import { Module } from '@nestjs/common';
import { JobOutboxService } from './job-outbox.service';

/** The reconciler that publishes jobs a gateway stored but never published (see JobOutboxService). */
@Module({ providers: [JobOutboxService], exports: [JobOutboxService] })
export class OutboxModule {}
