import { ForbiddenException } from '@nestjs/common';
import { configWith } from '@flansible/config';
import { WorkspaceService } from '@flansible/workspace';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticatedUser } from './authenticated-user';
import { JobPolicyService } from './job-policy.service';

const root = mkdtempSync(join(tmpdir(), 'flansible-policy-'));
const inventoryRoot = join(root, 'inventories');
mkdirSync(inventoryRoot);
writeFileSync(join(inventoryRoot, 'dev'), 'localhost\n');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = configWith({ inventoryRoot, playbookRoot: root });
const policy = new JobPolicyService(config, new WorkspaceService(config));
const user = (name: string, isAdmin = false): AuthenticatedUser => ({
  name,
  isAdmin,
  inventories: ['dev'],
  limits: { become: true, git: true, maxVerbosity: 1, diff: false },
});
const alice = user('alice');
const bob = user('bob');
const admin = user('admin', true);

/** The catastrophic-backtracking pattern the rule is for: `~` + `.*` x 100 + `Z`. */
const SLOW_REGEX = `~${'.*'.repeat(100)}Z`;

describe('JobPolicyService host patterns', () => {
  it.each([SLOW_REGEX, '~web\\d+', 'all:~db', 'all:!~db', 'all:&~db', 'web,~db'])('refuses the regex pattern %s to non-admins', (pattern) => {
    expect(() => policy.authorizeHostPattern(alice, pattern)).toThrow(ForbiddenException);
    expect(() => policy.authorizeHostPattern(alice, pattern)).toThrow(/host_pattern may not use regular expressions/);
    expect(() => policy.authorizeLimit(alice, pattern)).toThrow(/limit may not use regular expressions/);
  });

  it('lets admins use regex patterns in host_pattern and limit', () => {
    expect(() => policy.authorizeHostPattern(admin, SLOW_REGEX)).not.toThrow();
    expect(() => policy.authorizeLimit(admin, SLOW_REGEX)).not.toThrow();
  });

  it('still allows globs, groups and an absent limit', () => {
    for (const pattern of ['all', 'web*', 'web:&prod:!db', 'web[0:3]']) {
      expect(() => policy.authorizeHostPattern(alice, pattern)).not.toThrow();
      expect(() => policy.authorizeLimit(alice, pattern)).not.toThrow();
    }
    expect(() => policy.authorizeLimit(alice, undefined)).not.toThrow();
  });

  // Whether these reach a listed host or Ansible's implicit localhost depends on the inventory:
  // the guard inside Ansible decides (ansible-guard.integration-spec.ts), not the gateway.
  it.each(['localhost', '127.0.0.1', '::1', 'localhost[0]', 'box,localhost', 'all:!localhost', 'LOCALHOST'])(
    'leaves %s to the guard inside Ansible, in host_pattern and in a stored job',
    (pattern) => {
      expect(() => policy.authorizeHostPattern(alice, pattern)).not.toThrow();
      expect(policy.reauthorize(alice, { kind: 'command', inventoryPath: join(inventoryRoot, 'dev'), hostPattern: pattern, module: 'ping' })).toBeNull();
    },
  );
});

describe('JobPolicyService on a shared inventory', () => {
  const job = { submittedBy: 'alice', inventory: join(inventoryRoot, 'dev') };

  it('lets another user of the inventory read the job, but not control it or see its argument values', () => {
    expect(policy.canRead(bob, job)).toBe(true);
    expect(policy.canControl(bob, job)).toBe(false);
    expect(policy.canSeeArguments(bob, job)).toBe(false);
  });

  it('lets the submitter and admins control the job and see its argument values', () => {
    for (const who of [alice, admin]) {
      expect(policy.canControl(who, job)).toBe(true);
      expect(policy.canSeeArguments(who, job)).toBe(true);
    }
  });
});
