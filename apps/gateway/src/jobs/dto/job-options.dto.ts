import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { FieldGrammar } from '@flansible/contracts';

/** Launch fields the v1 API adds to every job kind. */
export class JobOptionsDto {
  /** `--limit`: further restrict the hosts, as a host pattern. */
  @IsOptional()
  @Matches(FieldGrammar.hostPattern, { message: 'limit must be an Ansible host pattern' })
  @IsString()
  limit?: string;

  /** `--check`: dry run, change nothing. */
  @IsOptional()
  @IsBoolean()
  check?: boolean;

  /** `--diff`: show what changes. */
  @IsOptional()
  @IsBoolean()
  diff?: boolean;

  /** Seconds before the job is killed (timed_out); capped by the server's maximum (task_timeout). */
  @IsOptional()
  @Max(7 * 24 * 3600)
  @Min(1)
  @IsInt()
  timeout?: number;

  /** 0 (default) to 9; recorded with the job and shown in history. */
  @IsOptional()
  @Max(9)
  @Min(0)
  @IsInt()
  priority?: number;
}

/** `--tags` / `--skip-tags` for playbooks. */
export class PlaybookTagsDto {
  /** Run only tasks with these tags. */
  @IsOptional()
  @Matches(FieldGrammar.tag, { each: true, message: 'each tag must be a tag name (letters, digits, _ . : -)' })
  @IsString({ each: true })
  @ArrayMaxSize(100)
  @IsArray()
  tags?: string[];

  /** Skip tasks with these tags. */
  @IsOptional()
  @Matches(FieldGrammar.tag, { each: true, message: 'each skip_tags entry must be a tag name (letters, digits, _ . : -)' })
  @IsString({ each: true })
  @ArrayMaxSize(100)
  @IsArray()
  skip_tags?: string[];
}
