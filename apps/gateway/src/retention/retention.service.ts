import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FlansibleConfig } from '@flansible/config';
import { GatewayJobStore } from '@flansible/store';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Purges jobs, their output and events older than retention_days, at start and then every
 * retention_interval. Several gateways may purge at once: deleting what is gone is harmless.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly config: FlansibleConfig,
    private readonly store: GatewayJobStore,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.retentionDays === 0) return;
    void this.purge();
    this.timer = setInterval(() => void this.purge(), this.config.retentionIntervalSeconds * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  purge(): Promise<void> {
    this.running ??= (async () => {
      try {
        const before = new Date(Date.now() - this.config.retentionDays * DAY_MS);
        const purged = await this.store.purgeFinishedBefore(before);
        if (purged > 0) this.logger.log(`Purged ${purged} job(s) created before ${before.toISOString()}`);
      } catch (err) {
        this.logger.error(`Retention purge failed: ${(err as Error).message}`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
