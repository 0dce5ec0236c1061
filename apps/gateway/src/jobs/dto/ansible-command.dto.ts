import { IsDefined, IsOptional, IsString, ValidateIf } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { TextRules } from '@flansible/contracts';
import { AnsibleRunOptionsDto } from './ansible-run-options.dto';
import { FollowsRule } from './follows-rule.validator';
import { IsModuleArgs } from './is-module-args.validator';

/** POST /api/ansiblecommand: an ad-hoc command. */
export class AnsibleCommandDto extends AnsibleRunOptionsDto {
  /** Hosts to target, e.g. `localhost` or `webservers:!db1`. */
  @ValidateIf((dto: AnsibleCommandDto) => dto.host_filter === undefined || dto.host_pattern !== undefined)
  @FollowsRule(TextRules.hostPattern)
  @IsString()
  @IsDefined({ message: 'host_pattern (or its alias host_filter) is required' })
  host_pattern?: string;

  /** Alias of host_pattern, as the original README named it. */
  @IsOptional()
  @FollowsRule(TextRules.hostPattern)
  @IsString()
  host_filter?: string;

  /** Ansible module name, e.g. `ping`, `find`, `ansible.builtin.setup`. */
  @FollowsRule(TextRules.module)
  @IsString()
  @IsDefined({ message: '$property is required' })
  module!: string;

  /** Module arguments: an object (sent to `-a` as JSON) or a `key=value` string. */
  @ApiProperty({ required: false, oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] })
  @IsOptional()
  @IsModuleArgs()
  module_args?: string | Record<string, unknown>;
}
