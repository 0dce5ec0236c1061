import { ForbiddenException } from '@nestjs/common';
import { configWith } from '@flansible/config';
import { PathNotFoundError, PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticatedUser } from './authenticated-user';
import { JobPolicyService } from './job-policy.service';

let root: string;
let vaultRoot: string;
let policy: JobPolicyService;

const user = (vaultFiles?: string[], isAdmin = false): AuthenticatedUser => ({
  name: isAdmin ? 'admin' : 'ops',
  isAdmin,
  inventories: [],
  limits: { vaultFiles, become: true, git: true },
});

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'flansible-policy-')));
  vaultRoot = join(root, 'vault');
  mkdirSync(join(vaultRoot, 'team', 'deep'), { recursive: true });
  for (const file of ['dev.pass', 'prod.pass', 'team/a.pass', 'team/deep/b.pass']) writeFileSync(join(vaultRoot, file), 'secret\n');
  // A link in a listed place naming an unlisted file: the real path decides.
  symlinkSync(join(vaultRoot, 'prod.pass'), join(vaultRoot, 'team', 'alias.pass'));
  // A link outside the listed place naming a listed file.
  symlinkSync(join(vaultRoot, 'dev.pass'), join(vaultRoot, 'dev-link.pass'));
  const config = configWith({
    rbacFile: join(root, 'rbac.json'),
    playbookRoot: join(root, 'playbooks'),
    inventoryRoot: join(root, 'inventories'),
    vaultRoot,
    dataDir: join(root, 'data'),
  });
  policy = new JobPolicyService(config, new WorkspaceService(config));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('JobPolicyService.authorizeVaultFile', () => {
  const listed = ['dev.pass', 'team/*.pass'];

  it.each([
    ['dev.pass', 'dev.pass'],
    ['team/a.pass', 'team/a.pass'],
    ['./team/../dev.pass', 'dev.pass'],
    ['dev-link.pass', 'dev.pass'],
  ])('lets a user use a listed file (%s) and returns its real path', (given, real) => {
    expect(policy.authorizeVaultFile(user(listed), given)).toBe(join(vaultRoot, real));
  });

  it.each([
    ['an unlisted file', 'prod.pass'],
    ['a file below the glob', 'team/deep/b.pass'],
    ['a link in a listed place to an unlisted file', 'team/alias.pass'],
    ['a missing file the user may not use (existence is not revealed)', 'nope.pass'],
  ])('refuses %s with 403 naming it', (_what, name) => {
    expect(() => policy.authorizeVaultFile(user(listed), name)).toThrow(ForbiddenException);
    expect(() => policy.authorizeVaultFile(user(listed), name)).toThrow(`User may not use vault file ${name}`);
  });

  it('refuses every vault file to a non-admin who lists none', () => {
    expect(() => policy.authorizeVaultFile(user(undefined), 'dev.pass')).toThrow('User may not use vault file dev.pass');
    expect(() => policy.authorizeVaultFile(user([]), 'dev.pass')).toThrow(ForbiddenException);
  });

  it('lets admins use any vault file', () => {
    expect(policy.authorizeVaultFile(user(undefined, true), 'prod.pass')).toBe(join(vaultRoot, 'prod.pass'));
    expect(policy.authorizeVaultFile(user(undefined, true), 'team/alias.pass')).toBe(join(vaultRoot, 'prod.pass'));
  });

  it('answers 404 for a listed file that does not exist, and 403 for one outside the root', () => {
    expect(() => policy.authorizeVaultFile(user(['*.pass']), 'missing.pass')).toThrow(PathNotFoundError);
    expect(() => policy.authorizeVaultFile(user(['*.pass']), '../rbac.json')).toThrow(PathOutsideRootError);
    expect(() => policy.authorizeVaultFile(user(undefined, true), '/etc/shadow')).toThrow(PathOutsideRootError);
  });
});
