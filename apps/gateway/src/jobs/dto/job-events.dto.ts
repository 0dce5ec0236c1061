import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { JobEventType, StoreRange } from '@flansible/contracts';
import { QueryInteger } from '../../common/query-integer.decorator';

const EVENT_TYPES = Object.values(JobEventType);

/** GET /api/v1/jobs/{id}/events query. */
export class EventsQueryDto {
  /** Only events after this counter (keyset); default 0. */
  @QueryInteger(StoreRange.counter)
  after?: number;

  /** Page size, 1-1000; default 100. */
  @QueryInteger({ min: 1, max: 1000 })
  limit?: number;

  /** Only events of this host. */
  @IsOptional()
  @MaxLength(1024)
  @IsString()
  host?: string;

  /** Only events of these types, comma-separated. */
  @IsOptional()
  @IsIn(EVENT_TYPES, { each: true, message: `type must be among ${EVENT_TYPES.join(', ')}` })
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').filter(Boolean) : value))
  @ApiProperty({ required: false, type: String, description: `Comma-separated: ${EVENT_TYPES.join(', ')}` })
  type?: JobEventType[];
}

/** One structured event from the callback plugin. */
export class JobEventDto {
  /** 1, 2, 3 ... per job. */
  counter!: number;
  @ApiProperty({ enum: EVENT_TYPES })
  type!: JobEventType;
  @ApiProperty({ type: String, nullable: true })
  host!: string | null;
  @ApiProperty({ type: String, nullable: true })
  task!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  data!: Record<string, unknown>;
  created_at!: string;
}

export class EventPageDto {
  items!: JobEventDto[];
  /** Pass as `after` for the next page; null when this page was not full. */
  @ApiProperty({ type: Number, nullable: true })
  next_after!: number | null;
}

/** Per-host totals. */
export class HostSummaryDto {
  host!: string;
  ok!: number;
  changed!: number;
  failed!: number;
  unreachable!: number;
  skipped!: number;
  rescued!: number;
  ignored!: number;
}

export class JobSummaryDto {
  job_id!: string;
  @ApiProperty({ enum: ['queued', 'running', 'successful', 'failed', 'canceled', 'timed_out', 'error'] })
  status!: string;
  hosts!: HostSummaryDto[];
}
