import { Controller, ForbiddenException, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthenticatedUser, CurrentUser, Public } from '@flansible/auth';
import { FlansibleMetrics } from '@flansible/metrics';

async function sendExposition(metrics: FlansibleMetrics, res: Response): Promise<void> {
  const { contentType, body } = await metrics.exposition();
  res.type(contentType).send(body);
}

/** Prometheus' scrape target, for admins (the default). Not in the OpenAPI document: it is no API. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: FlansibleMetrics) {}

  @Get()
  async scrape(@CurrentUser() user: AuthenticatedUser, @Res() res: Response): Promise<void> {
    if (!user.isAdmin) throw new ForbiddenException('Only an admin may read the metrics');
    await sendExposition(this.metrics, res);
  }
}

/** The same without credentials, with `metrics_public: true` (a scraper on a trusted network). */
@ApiExcludeController()
@Controller('metrics')
export class PublicMetricsController {
  constructor(private readonly metrics: FlansibleMetrics) {}

  @Public()
  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    await sendExposition(this.metrics, res);
  }
}
