import { IsBoolean, IsDefined, IsOptional, IsString, Matches } from 'class-validator';
import { FieldGrammar } from '@flansible/contracts';

/** POST /api/git: update a playbook repository. */
export class GitUpdateDto {
  /** The repository's directory inside the playbook root. */
  @Matches(FieldGrammar.path, { message: 'playbook_dir must be a path without control characters or a leading "-"' })
  @IsString()
  @IsDefined({ message: '$property is required' })
  playbook_dir!: string;

  /** Remote to pull from. */
  @IsOptional()
  @Matches(FieldGrammar.gitRemote, { message: 'remote_name must be a git remote name' })
  @IsString()
  remote_name?: string = 'origin';

  /** Branch to pull. */
  @IsOptional()
  @Matches(FieldGrammar.gitBranch, { message: 'branch_name must be a git branch name' })
  @IsString()
  branch_name?: string = 'master';

  /** Fetch and hard-reset to the remote branch before pulling (discards local changes). */
  @IsOptional()
  @IsBoolean()
  reset?: boolean = false;
}
