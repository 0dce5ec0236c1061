import { IsBoolean, IsObject, IsOptional, IsString } from 'class-validator';
import { JobRange, TextRules } from '@flansible/contracts';
import { BodyInteger } from '../../common/body-integer.decorator';
import { FollowsRule } from './follows-rule.validator';

/**
 * Fields both ad-hoc commands and playbooks take. In every DTO, a property's decorators are
 * checked bottom-up and only the first failure is reported: presence, then type, then grammar.
 */
export class AnsibleRunOptionsDto {
  /** Inventory name under the inventory root, or a path inside it; the default inventory when omitted. */
  @IsOptional()
  @FollowsRule(TextRules.inventory)
  @IsString()
  inventory?: string;

  /** Extra variables, passed to Ansible through a private temporary file. */
  @IsOptional()
  @IsObject()
  extra_vars?: Record<string, unknown>;

  /** Parallel processes (`--forks`). */
  @BodyInteger(JobRange.forks)
  forks?: number;

  /** Verbosity: `-v` repeated this many times. */
  @BodyInteger(JobRange.verboseLevel)
  verbose_level?: number;

  /** Run with privilege escalation (`--become`). */
  @IsOptional()
  @IsBoolean()
  become?: boolean;

  /** `--become-method`, e.g. sudo. */
  @IsOptional()
  @FollowsRule(TextRules.becomeMethod)
  @IsString()
  become_method?: string;

  /** `--become-user`. */
  @IsOptional()
  @FollowsRule(TextRules.becomeUser)
  @IsString()
  become_user?: string;
}
