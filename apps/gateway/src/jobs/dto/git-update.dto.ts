import { IsBoolean, IsDefined, IsOptional, IsString } from 'class-validator';
import { TextRules } from '@flansible/contracts';
import { FollowsRule } from './follows-rule.validator';

/** POST /api/git: update a playbook repository. */
export class GitUpdateDto {
  /** The repository's directory inside the playbook root. */
  @FollowsRule(TextRules.path)
  @IsString()
  @IsDefined({ message: '$property is required' })
  playbook_dir!: string;

  /** Remote to pull from. */
  @IsOptional()
  @FollowsRule(TextRules.gitRemote)
  @IsString()
  remote_name?: string = 'origin';

  /** Branch to pull. */
  @IsOptional()
  @FollowsRule(TextRules.gitBranch)
  @IsString()
  branch_name?: string = 'master';

  /** Fetch and hard-reset to the remote branch before pulling (discards local changes). */
  @IsOptional()
  @IsBoolean()
  reset?: boolean = false;
}
