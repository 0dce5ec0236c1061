import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { JobKind, JobStatus } from '@flansible/contracts';
import { QueryInteger } from '../../common/query-integer.decorator';

const STATUSES = Object.values(JobStatus);

/** GET /api/v1/jobs query: filters and keyset pagination, newest first. */
export class ListJobsQueryDto {
  /** Only these statuses, comma-separated. */
  @IsOptional()
  @IsIn(STATUSES, { each: true, message: `status must be among ${STATUSES.join(', ')}` })
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').filter(Boolean) : value))
  @ApiProperty({ required: false, type: String, description: `Comma-separated: ${STATUSES.join(', ')}` })
  status?: JobStatus[];

  @IsOptional()
  @IsIn(Object.values(JobKind))
  @ApiProperty({ required: false, enum: Object.values(JobKind) })
  kind?: JobKind;

  /** Submitted by this user. */
  @IsOptional()
  @MaxLength(200)
  @IsString()
  user?: string;

  /** Inventory name or path, as a job request names it. */
  @IsOptional()
  @MaxLength(4096)
  @IsString()
  inventory?: string;

  /** Created before this time (ISO 8601). */
  @IsOptional()
  @IsDate({ message: 'created_before must be an ISO 8601 date-time' })
  @Type(() => Date)
  created_before?: Date;

  /** Created after this time (ISO 8601). */
  @IsOptional()
  @IsDate({ message: 'created_after must be an ISO 8601 date-time' })
  @Type(() => Date)
  created_after?: Date;

  /** Page size, 1-500; default 50. */
  @QueryInteger({ min: 1, max: 500 })
  limit?: number;

  /** next_cursor of the previous page. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a next_cursor value from a previous page' })
  @IsString()
  cursor?: string;
}
