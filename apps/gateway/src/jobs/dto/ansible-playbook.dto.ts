import { IsBoolean, IsDefined, IsOptional, IsString } from 'class-validator';
import { TextRules } from '@flansible/contracts';
import { AnsibleRunOptionsDto } from './ansible-run-options.dto';
import { FollowsRule } from './follows-rule.validator';

/** POST /api/ansibleplaybook: a playbook run. */
export class AnsiblePlaybookDto extends AnsibleRunOptionsDto {
  /** Directory holding the playbook: absolute inside the playbook root, or relative to it. */
  @FollowsRule(TextRules.path)
  @IsString()
  @IsDefined({ message: '$property is required' })
  playbook_dir!: string;

  /** Playbook file name, relative to playbook_dir. */
  @FollowsRule(TextRules.path)
  @IsString()
  @IsDefined({ message: '$property is required' })
  playbook!: string;

  /** Vault password file on the server, inside the vault root. */
  @IsOptional()
  @FollowsRule(TextRules.path)
  @IsString()
  vault_file?: string;

  /** `git pull` playbook_dir's repository before running. */
  @IsOptional()
  @IsBoolean()
  update_git_repo?: boolean;
}
