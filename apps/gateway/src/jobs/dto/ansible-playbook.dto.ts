import { IsBoolean, IsDefined, IsOptional, IsString, Matches } from 'class-validator';
import { FieldGrammar } from '@flansible/contracts';
import { AnsibleRunOptionsDto } from './ansible-run-options.dto';

/** POST /api/ansibleplaybook: a playbook run. */
export class AnsiblePlaybookDto extends AnsibleRunOptionsDto {
  /** Directory holding the playbook: absolute inside the playbook root, or relative to it. */
  @Matches(FieldGrammar.path, { message: 'playbook_dir must be a path without control characters or a leading "-"' })
  @IsString()
  @IsDefined({ message: '$property is required' })
  playbook_dir!: string;

  /** Playbook file name, relative to playbook_dir. */
  @Matches(FieldGrammar.path, { message: 'playbook must be a file name without control characters or a leading "-"' })
  @IsString()
  @IsDefined({ message: '$property is required' })
  playbook!: string;

  /** Vault password file on the server, inside the vault root. */
  @IsOptional()
  @Matches(FieldGrammar.path, { message: 'vault_file must be a path without control characters or a leading "-"' })
  @IsString()
  vault_file?: string;

  /** `git pull` playbook_dir's repository before running. */
  @IsOptional()
  @IsBoolean()
  update_git_repo?: boolean;
}
