import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { FlansibleMetrics } from '@flansible/metrics';

/** The runner's metrics, without credentials: its listener is on runner_host, loopback by default. */
@Controller('metrics')
export class RunnerMetricsController {
  constructor(private readonly metrics: FlansibleMetrics) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.exposition();
    res.type(contentType).send(body);
  }
}
