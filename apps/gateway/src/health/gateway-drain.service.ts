import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { LiveStreams } from '../jobs/live-streams';
import { GatewayReadinessService } from './gateway-readiness.service';

/**
 * The gateway's part of a shutdown (SIGTERM): not ready from now on, no new connections, and every
 * live stream ended with a reconnect hint, so that requests in progress finish and the process
 * exits within seconds. Provided by the root module, whose hooks Nest runs first: in the embedded
 * deployment this comes before the runner's drain, which then may take its grace period.
 */
@Injectable()
export class GatewayDrainService implements OnModuleDestroy {
  private readonly logger = new Logger(GatewayDrainService.name);

  constructor(
    private readonly readiness: GatewayReadinessService,
    private readonly streams: LiveStreams,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleDestroy(): void {
    this.readiness.markDraining();
    // Nest closes the server again later and waits for its connections; this stops new ones now.
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server?.listening) server.close();
    const ended = this.streams.endAll();
    this.logger.log(`Shutting down: taking no new connection${ended ? `; ended ${ended} live stream(s) with a reconnect hint` : ''}`);
  }
}
