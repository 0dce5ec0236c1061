import { ForbiddenException } from '@nestjs/common';
import { configWith } from '@flansible/config';
import { PathNotFoundError, PathOutsideRootError, WorkspaceService } from '@flansible/workspace';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobKind, JobSpec } from '@flansible/contracts';
import { AuthenticatedUser, UserLimits } from './authenticated-user';
import { JobPolicyService } from './job-policy.service';

// Made when the module loads: the test tables below name paths inside it.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'flansible-policy-')));
const vaultRoot = join(root, 'vault');
let policy: JobPolicyService;

const user = (vaultFiles?: string[], isAdmin = false): AuthenticatedUser => ({
  name: isAdmin ? 'admin' : 'ops',
  isAdmin,
  inventories: [],
  limits: { vaultFiles, become: true, git: true, maxVerbosity: 1, diff: false },
});

beforeAll(() => {
  mkdirSync(join(vaultRoot, 'team', 'deep'), { recursive: true });
  for (const file of ['dev.pass', 'prod.pass', 'team/a.pass', 'team/deep/b.pass']) writeFileSync(join(vaultRoot, file), 'secret\n');
  // A link in a listed place naming an unlisted file: the real path decides.
  symlinkSync(join(vaultRoot, 'prod.pass'), join(vaultRoot, 'team', 'alias.pass'));
  // A link outside the listed place naming a listed file.
  symlinkSync(join(vaultRoot, 'dev.pass'), join(vaultRoot, 'dev-link.pass'));
  mkdirSync(join(root, 'inventories'), { recursive: true });
  mkdirSync(join(root, 'playbooks', 'app'), { recursive: true });
  for (const name of ['dev', 'prod']) writeFileSync(join(root, 'inventories', name), 'localhost\n');
  writeFileSync(join(root, 'playbooks', 'app', 'ok.yml'), '[]\n');
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

/** A non-admin on `dev` with the given limits (defaults as rbac.json gives them). */
const ops = (limits: Partial<UserLimits> = {}, inventories: string[] = ['dev']): AuthenticatedUser => ({
  name: 'ops',
  isAdmin: false,
  inventories,
  limits: { become: true, git: true, maxVerbosity: 1, diff: false, ...limits },
});
const ADMIN: AuthenticatedUser = { ...ops(), name: 'admin', isAdmin: true, inventories: [] };

describe('JobPolicyService.authorizeOutputDetail', () => {
  it('lets a non-admin use verbose_level up to max_verbosity (default 1), and no diff by default', () => {
    expect(() => policy.authorizeOutputDetail(ops(), { verboseLevel: 1, diff: false })).not.toThrow();
    expect(() => policy.authorizeOutputDetail(ops(), { verboseLevel: 2 })).toThrow(ForbiddenException);
    expect(() => policy.authorizeOutputDetail(ops(), { verboseLevel: 3 })).toThrow("verbose_level 3 is above this user's max_verbosity (1)");
    expect(() => policy.authorizeOutputDetail(ops(), { diff: true })).toThrow('diff is not granted to this user');
    expect(() => policy.authorizeOutputDetail(ops({ maxVerbosity: 0 }), { verboseLevel: 1 })).toThrow('max_verbosity (0)');
  });

  it('allows what rbac.json grants, and everything to admins', () => {
    expect(() => policy.authorizeOutputDetail(ops({ maxVerbosity: 4, diff: true }), { verboseLevel: 4, diff: true })).not.toThrow();
    expect(() => policy.authorizeOutputDetail(ADMIN, { verboseLevel: 4, diff: true })).not.toThrow();
  });
});

describe('JobPolicyService.authorizeTags', () => {
  it.each([
    ['never in tags', ['never'], undefined, 'tags may not name never'],
    ['never among other tags', ['deploy', 'never'], undefined, 'tags may not name never'],
    ['always in skip_tags', undefined, ['always'], 'skip_tags may not name always'],
    ['all in skip_tags', undefined, ['all'], 'skip_tags may not name all'],
    ['tagged in skip_tags', undefined, ['tagged'], 'skip_tags may not name tagged'],
    ['untagged in skip_tags', undefined, ['untagged'], 'skip_tags may not name untagged'],
  ])('refuses %s to a non-admin', (_what, tags, skipTags, message) => {
    expect(() => policy.authorizeTags(ops(), tags, skipTags)).toThrow(ForbiddenException);
    expect(() => policy.authorizeTags(ops(), tags, skipTags)).toThrow(message);
    // A tags list that names other tags, special or not, does not lift the rule.
    const special = [...(tags ?? []), ...(skipTags ?? [])].filter((t) => t !== 'deploy');
    const others = ['deploy', 'never', 'always', 'all', 'tagged', 'untagged'].filter((t) => !special.includes(t));
    expect(() => policy.authorizeTags(ops({ tags: others }), tags, skipTags)).toThrow(message);
  });

  it('lets a non-admin name a special tag that their own tags list names (the issue: "unless their entry allows it")', () => {
    expect(() => policy.authorizeTags(ops({ tags: ['wipe', 'never'] }), ['wipe', 'never'], undefined)).not.toThrow();
    expect(() => policy.authorizeTags(ops({ tags: ['always'] }), undefined, ['always'])).not.toThrow();
    expect(() => policy.authorizeTags(ops({ tags: ['always'] }), undefined, ['all'])).toThrow('skip_tags may not name all');
  });

  it('lets a non-admin without a tags list name any other tag', () => {
    expect(() => policy.authorizeTags(ops(), ['deploy', 'all', 'tagged', 'always'], ['slow'])).not.toThrow();
  });

  it('holds a non-admin with a tags list to it, in tags and skip_tags', () => {
    const listed = ops({ tags: ['deploy', 'slow'] });
    expect(() => policy.authorizeTags(listed, ['deploy'], ['slow'])).not.toThrow();
    expect(() => policy.authorizeTags(listed, ['wipe'], undefined)).toThrow('tags may not name wipe: not among the tags this user may use');
    expect(() => policy.authorizeTags(listed, undefined, ['other'])).toThrow('skip_tags may not name other');
    expect(() => policy.authorizeTags(ops({ tags: [] }), ['deploy'], undefined)).toThrow(ForbiddenException);
  });

  it('leaves admins unrestricted', () => {
    expect(() => policy.authorizeTags(ADMIN, ['never', 'wipe'], ['always', 'all'])).not.toThrow();
  });
});

describe('JobPolicyService.reauthorize', () => {
  const inventory = (name: string) => join(root, 'inventories', name);
  const command = (extra: Partial<JobSpec> = {}): JobSpec =>
    ({ kind: JobKind.Command, hostPattern: 'all', module: 'ping', inventoryPath: inventory('dev'), ...extra }) as JobSpec;
  const playbook = (extra: Record<string, unknown> = {}): JobSpec =>
    ({
      kind: JobKind.Playbook,
      playbookDir: join(root, 'playbooks', 'app'),
      playbookPath: join(root, 'playbooks', 'app', 'ok.yml'),
      inventoryPath: inventory('dev'),
      ...extra,
    }) as JobSpec;
  const git: JobSpec = { kind: JobKind.Git, repoDir: join(root, 'playbooks', 'repo'), remote: 'origin', branch: 'master', reset: false };

  it('answers null while the submitter may still run the job', () => {
    expect(policy.reauthorize(ops(), command())).toBeNull();
    expect(policy.reauthorize(ops({ playbooks: ['app/*.yml'] }), playbook({ tags: ['deploy'], verboseLevel: 1 }))).toBeNull();
    expect(policy.reauthorize(ops({ vaultFiles: ['dev.pass'] }), playbook({ vaultFile: join(vaultRoot, 'dev.pass') }))).toBeNull();
    expect(policy.reauthorize(ops(), git)).toBeNull();
  });

  it('answers null for admins, whatever the job', () => {
    expect(policy.reauthorize(ADMIN, playbook({ inventoryPath: inventory('prod'), tags: ['never'], verboseLevel: 4, unrestricted: true }))).toBeNull();
  });

  it('names a removed user', () => {
    expect(policy.reauthorize(undefined, command())).toBe('submitter no longer allowed: user removed');
  });

  it.each<[string, AuthenticatedUser, JobSpec, string]>([
    ['a lost inventory', ops({}, ['prod']), command(), `inventory ${join(root, 'inventories', 'dev')}`],
    ['a module no longer listed', ops({ modules: ['setup'] }), command(), 'module ping'],
    ['an ansible_* variable after losing admin', ops(), command({ extraVars: { ansible_connection: 'local' } }), 'extra_vars ansible_connection'],
    ['a controller-side argument after losing admin', ops(), command({ module: 'copy', moduleArgs: { src: '/etc/passwd', dest: '/tmp/x' } }), 'module arguments'],
    ['an unrestricted run after losing admin', ops(), command({ unrestricted: true }), 'unrestricted (admin) run'],
    ['become no longer granted', ops({ become: false }), command({ becomeUser: 'root' }), 'become'],
    ['verbosity no longer granted', ops({ maxVerbosity: 1 }), command({ verboseLevel: 3 }), 'verbose_level 3'],
    ['diff no longer granted', ops(), command({ diff: true }), 'diff'],
    ['a playbook no longer listed', ops({ playbooks: ['web/*.yml'] }), playbook(), `playbook ${join(root, 'playbooks', 'app', 'ok.yml')}`],
    ['a vault file no longer listed', ops({ vaultFiles: ['team/*.pass'] }), playbook({ vaultFile: join(vaultRoot, 'dev.pass') }), `vault file ${join(vaultRoot, 'dev.pass')}`],
    ['update_git_repo without git', ops({ git: false }), playbook({ updateGitRepo: true }), 'git'],
    ['a tag no longer listed', ops({ tags: ['deploy'] }), playbook({ tags: ['wipe'] }), 'tags wipe'],
    ['a git job without git', ops({ git: false }), git, 'git'],
  ])('refuses %s with a one-line reason', (_what, who, spec, subject) => {
    const reason = policy.reauthorize(who, spec);
    expect(reason?.startsWith(`submitter no longer allowed: ${subject}`) ? subject : reason).toBe(subject);
    expect(reason).not.toContain('\n');
  });
});
