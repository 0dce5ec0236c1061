import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { JobRange, MAX_TAGS, TextRules } from '@flansible/contracts';
import { BodyInteger } from '../../common/body-integer.decorator';
import { FollowsRule } from './follows-rule.validator';

/** Launch fields the v1 API adds to every job kind. */
export class JobOptionsDto {
  /** `--limit`: further restrict the hosts, as a host pattern. */
  @IsOptional()
  @FollowsRule(TextRules.hostPattern)
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
  @BodyInteger(JobRange.timeoutSeconds)
  timeout?: number;

  /** 0 (default) to 9; recorded with the job and shown in history. */
  @BodyInteger(JobRange.priority)
  priority?: number;
}

/** The Swagger plugin reads ArrayMaxSize's argument only when it is a literal: the cap is given here. */
const TAG_LIST_SCHEMA = { required: false, maxItems: MAX_TAGS };

/** `--tags` / `--skip-tags` for playbooks. */
export class PlaybookTagsDto {
  /** Run only tasks with these tags. */
  @ApiProperty(TAG_LIST_SCHEMA)
  @IsOptional()
  @FollowsRule(TextRules.tag, { each: true, message: `each tag must be ${TextRules.tag.must}` })
  @IsString({ each: true })
  @ArrayMaxSize(MAX_TAGS)
  @IsArray()
  tags?: string[];

  /** Skip tasks with these tags. */
  @ApiProperty(TAG_LIST_SCHEMA)
  @IsOptional()
  @FollowsRule(TextRules.tag, { each: true, message: `each skip_tags entry must be ${TextRules.tag.must}` })
  @IsString({ each: true })
  @ArrayMaxSize(MAX_TAGS)
  @IsArray()
  skip_tags?: string[];
}
