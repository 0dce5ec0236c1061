import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { StoreRange } from '@flansible/contracts';
import { QueryInteger } from '../../common/query-integer.decorator';

export const MAX_OUTPUT_RANGE = 100_000;

/** GET /api/v1/jobs/{id}/output query. */
export class OutputQueryDto {
  /** First line (1-based); default 1. */
  @QueryInteger(StoreRange.lineNumber)
  start_line?: number;

  /** Last line (inclusive); default: start_line + 9,999, at most 100,000 lines per request. */
  @QueryInteger(StoreRange.lineNumber)
  end_line?: number;

  /** Answer as an attachment (job-<id>.log) with the whole output as text/plain. */
  @IsOptional()
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean()
  download?: boolean;
}

/** A range of output lines (JSON form of the output endpoint). */
export class OutputPageDto {
  start_line!: number;
  /** Last line returned (start_line - 1 when none). */
  end_line!: number;
  /** Lines stored in all so far. */
  total_lines!: number;
  /** The lines, without their newlines. */
  @ApiProperty({ type: [String] })
  lines!: string[];
  /** Whether the job has ended (no more lines will come). */
  complete!: boolean;
}


