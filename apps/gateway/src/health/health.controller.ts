import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { GatewayReadinessService } from './gateway-readiness.service';
import { HealthDto, ReadinessDto } from './health.dto';

@ApiTags('health')
@Controller('api/health')
export class HealthController {
  constructor(
    private readonly config: FlansibleConfig,
    private readonly readiness: GatewayReadinessService,
  ) {}

  /** Liveness: the gateway is up and answering. Needs no credentials. */
  @Public()
  @Get()
  @ApiOkResponse({ type: HealthDto })
  getHealth(): HealthDto {
    return { status: 'ok', deployment: this.config.deployment };
  }

  /** Readiness: the store answers and the job queue can take jobs. Needs no credentials. */
  @Public()
  @Get('ready')
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready: every check is up' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Not ready: a check is down, or the gateway is shutting down' })
  async getReadiness(@Res({ passthrough: true }) res: Response): Promise<ReadinessDto> {
    const report = await this.readiness.report();
    res.status(report.status === 'ok' ? 200 : 503);
    return report as ReadinessDto;
  }
}
