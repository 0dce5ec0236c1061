import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
  @ApiProperty({ enum: ['embedded', 'distributed'] })
  deployment!: 'embedded' | 'distributed';
}

export class ReadinessCheckDto {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';
}

export class ReadinessChecksDto {
  /** The results store answers a query. */
  @ApiProperty({ type: ReadinessCheckDto })
  store!: ReadinessCheckDto;
  /** The job queue can take a job (connected, with a publishing channel open). */
  @ApiProperty({ type: ReadinessCheckDto })
  queue!: ReadinessCheckDto;
}

export class ReadinessDto {
  /** `ok` (200) when every check is up; `error` (503) when one is down; `draining` (503) while shutting down. */
  @ApiProperty({ enum: ['ok', 'error', 'draining'] })
  status!: 'ok' | 'error' | 'draining';
  @ApiProperty({ type: ReadinessChecksDto })
  checks!: ReadinessChecksDto;
}
