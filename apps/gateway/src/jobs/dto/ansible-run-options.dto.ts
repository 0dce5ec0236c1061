import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { FieldGrammar } from '@flansible/contracts';

/**
 * Fields both ad-hoc commands and playbooks take. In every DTO, a property's decorators are
 * checked bottom-up and only the first failure is reported: presence, then type, then grammar.
 */
export class AnsibleRunOptionsDto {
  /** Inventory name under the inventory root, or a path inside it; the default inventory when omitted. */
  @IsOptional()
  @Matches(FieldGrammar.inventory, {
    message: 'inventory must be a name or path inside the inventory root (no control characters, leading "-" or inline host list)',
  })
  @IsString()
  inventory?: string;

  /** Extra variables, passed to Ansible through a private temporary file. */
  @IsOptional()
  @IsObject()
  extra_vars?: Record<string, unknown>;

  /** Parallel processes (`--forks`). */
  @IsOptional()
  @Min(1)
  @Max(500)
  @IsInt()
  forks?: number;

  /** Verbosity: `-v` repeated this many times. */
  @IsOptional()
  @Min(0)
  @Max(4)
  @IsInt()
  verbose_level?: number;

  /** Run with privilege escalation (`--become`). */
  @IsOptional()
  @IsBoolean()
  become?: boolean;

  /** `--become-method`, e.g. sudo. */
  @IsOptional()
  @Matches(FieldGrammar.becomeMethod, { message: 'become_method must be a plugin name such as sudo or su' })
  @IsString()
  become_method?: string;

  /** `--become-user`. */
  @IsOptional()
  @Matches(FieldGrammar.becomeUser, { message: 'become_user must be a user name' })
  @IsString()
  become_user?: string;
}
