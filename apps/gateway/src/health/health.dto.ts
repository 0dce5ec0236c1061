import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
  @ApiProperty({ enum: ['embedded', 'distributed'] })
  deployment!: 'embedded' | 'distributed';
}

export class ReadinessCheckDto {
  @ApiProperty({ enum: ['up'] })
  status!: 'up';
}

export class ReadinessChecksDto {
  /** The results store answers a query. */
  @ApiProperty({ type: ReadinessCheckDto })
  store!: ReadinessCheckDto;
  /** The job queue can take a job (connected, with a publishing channel open). */
  @ApiProperty({ type: ReadinessCheckDto })
  queue!: ReadinessCheckDto;
}

export class ReadyDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
  @ApiProperty({ type: ReadinessChecksDto })
  checks!: ReadinessChecksDto;
}
