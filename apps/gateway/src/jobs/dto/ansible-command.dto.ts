import { IsDefined, IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { FieldGrammar } from '@flansible/contracts';
import { AnsibleRunOptionsDto } from './ansible-run-options.dto';
import { IsModuleArgs } from './is-module-args.validator';

const HOST_PATTERN_MESSAGE = 'host_pattern must be an Ansible host pattern (no spaces, control characters or leading "-")';

/** POST /api/ansiblecommand: an ad-hoc command. */
export class AnsibleCommandDto extends AnsibleRunOptionsDto {
  /** Hosts to target, e.g. `localhost` or `webservers:!db1`. */
  @ValidateIf((dto: AnsibleCommandDto) => dto.host_filter === undefined || dto.host_pattern !== undefined)
  @Matches(FieldGrammar.hostPattern, { message: HOST_PATTERN_MESSAGE })
  @IsString()
  @IsDefined({ message: 'host_pattern (or its alias host_filter) is required' })
  host_pattern?: string;

  /** Alias of host_pattern, as the original README named it. */
  @IsOptional()
  @Matches(FieldGrammar.hostPattern, { message: HOST_PATTERN_MESSAGE.replace('host_pattern', 'host_filter') })
  @IsString()
  host_filter?: string;

  /** Ansible module name, e.g. `ping`, `find`, `ansible.builtin.setup`. */
  @Matches(FieldGrammar.module, { message: 'module must be a module name such as ping or ansible.builtin.find' })
  @IsString()
  @IsDefined({ message: '$property is required' })
  module!: string;

  /** Module arguments: an object (sent to `-a` as JSON) or a `key=value` string. */
  @ApiProperty({ required: false, oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }] })
  @IsOptional()
  @IsModuleArgs()
  module_args?: string | Record<string, unknown>;
}
