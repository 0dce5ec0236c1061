import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { ErrorBodyDto } from '../common/error-body.dto';
import { GatewayReadinessService } from './gateway-readiness.service';
import { HealthDto, ReadyDto } from './health.dto';

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
  @ApiOkResponse({ type: ReadyDto, description: 'Ready: every check is up' })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'Not ready: `details` names the parts that are down; or shutting down' })
  async getReadiness(@Res({ passthrough: true }) res: Response): Promise<ReadyDto | ErrorBodyDto> {
    const { statusCode, body } = await this.readiness.answer();
    res.status(statusCode);
    return body as ReadyDto | ErrorBodyDto;
  }
}
