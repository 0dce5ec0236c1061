import { configWith } from '@flansible/config';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotAGitRepositoryError, PathNotFoundError, PathOutsideRootError } from './index';
import { WorkspaceService } from './workspace.service';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd, stdio: 'pipe' });

let root: string;
let playbookRoot: string;
let workspace: WorkspaceService;

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'flansible-workspace-')));
  playbookRoot = join(root, 'playbooks');
  for (const dir of ['playbooks/plain', 'playbooks/repo', 'playbooks/linked', 'playbooks/gitfile', 'vault/team', 'inventories', 'data']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  // The enclosing repository an upward search from playbooks/plain would find.
  git(root, 'init', '-q');
  git(join(playbookRoot, 'repo'), 'init', '-q');
  mkdirSync(join(playbookRoot, 'repo', 'sub'));
  symlinkSync(join(root, '.git'), join(playbookRoot, 'linked', '.git'));
  writeFileSync(join(playbookRoot, 'gitfile', '.git'), `gitdir: ${join(root, '.git')}\n`);
  writeFileSync(join(root, 'vault', 'dev.pass'), 'secret\n');
  workspace = new WorkspaceService(
    configWith({
      rbacFile: join(root, 'rbac.json'),
      playbookRoot,
      inventoryRoot: join(root, 'inventories'),
      vaultRoot: join(root, 'vault'),
      dataDir: join(root, 'data'),
    }),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('WorkspaceService.resolveRepoDir', () => {
  it('accepts the top directory of a checkout, by name or absolute path', () => {
    expect(workspace.resolveRepoDir('repo')).toBe(join(playbookRoot, 'repo'));
    expect(workspace.resolveRepoDir(join(playbookRoot, 'repo'))).toBe(join(playbookRoot, 'repo'));
  });

  it.each([
    ['a plain directory inside an enclosing repository', 'plain'],
    ['a subdirectory of a checkout', 'repo/sub'],
    ['a directory whose .git is a link to another repository', 'linked'],
    ['a directory whose .git is a gitdir: file', 'gitfile'],
    ['the playbook root, itself inside the enclosing repository', '.'],
  ])('refuses %s', (_what, dir) => {
    expect(() => workspace.resolveRepoDir(dir)).toThrow(new NotAGitRepositoryError(dir));
    expect(() => workspace.resolveRepoDir(dir)).toThrow(`Not a git repository: ${dir}`);
  });

  it('answers as for any missing path (a PathNotFoundError, so 404)', () => {
    expect(new NotAGitRepositoryError('plain')).toBeInstanceOf(PathNotFoundError);
    expect(() => workspace.resolveRepoDir('nope')).toThrow('Directory not found: nope');
  });

  it('still confines the directory to the playbook root', () => {
    expect(() => workspace.resolveRepoDir('..')).toThrow(PathOutsideRootError);
    expect(() => workspace.resolveRepoDir(root)).toThrow(PathOutsideRootError);
  });
});

describe('WorkspaceService vault files', () => {
  it('locates a vault file by its real path, existing or not', () => {
    expect(workspace.vaultRoot()).toBe(join(root, 'vault'));
    expect(workspace.locateVaultFile('team/../dev.pass')).toEqual({ path: join(root, 'vault', 'dev.pass'), exists: true });
    expect(workspace.locateVaultFile('team/none.pass')).toEqual({ path: join(root, 'vault', 'team', 'none.pass'), exists: false });
    expect(() => workspace.resolveVaultFile('team/none.pass')).toThrow('Vault file not found: team/none.pass');
  });
});
