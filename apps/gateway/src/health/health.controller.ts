import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@flansible/auth';
import { FlansibleConfig } from '@flansible/config';
import { HealthDto } from './health.dto';

@ApiTags('health')
@Controller('api/health')
export class HealthController {
  constructor(private readonly config: FlansibleConfig) {}

  /** Liveness: the gateway is up and answering. Needs no credentials. */
  @Public()
  @Get()
  @ApiOkResponse({ type: HealthDto })
  getHealth(): HealthDto {
    return { status: 'ok', deployment: this.config.deployment };
  }
}
