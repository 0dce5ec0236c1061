import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCAL_INVENTORY =
  '[local]\nlocalhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n';

const PLAYBOOKS: Record<string, string> = {
  'app/ok.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: ok-task-marker
      ansible.builtin.debug:
        msg: "greeting={{ greeting | default('none') }}"
`,
  'app/fail.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: failing-task-marker
      ansible.builtin.fail:
        msg: this playbook fails on purpose
`,
  'app/slow.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: slow-started-marker
      ansible.builtin.debug:
        msg: started
    - name: slow-sleep
      ansible.builtin.command:
        argv: [sleep, "{{ slow_seconds | default(4) }}"]
    - name: slow-finished-marker
      ansible.builtin.debug:
        msg: finished
`,
  'app/echo-vars.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: echo-vars
      ansible.builtin.debug:
        var: payload
`,
  'app/events.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: events-ok
      ansible.builtin.debug:
        msg: ok
    - name: events-changed
      ansible.builtin.command: "true"
      changed_when: true
    - name: events-ignored
      ansible.builtin.fail:
        msg: ignored on purpose
      ignore_errors: true
    - name: events-skipped
      ansible.builtin.debug:
        msg: never
      when: false
    - name: events-loop
      ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: [a, b]
`,
  'app/tagged.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: tagged-alpha
      ansible.builtin.debug:
        msg: alpha
      tags: [alpha]
    - name: tagged-beta
      ansible.builtin.debug:
        msg: beta
      tags: [beta]
`,
  'app/hosts-from-var.yml': `
- hosts: "{{ target | default('all') }}"
  gather_facts: false
  tasks:
    - name: touch-from-var
      ansible.builtin.file:
        path: "{{ touch_path }}"
        state: touch
`,
  'app/delegate-from-var.yml': `
- hosts: box
  gather_facts: false
  tasks:
    - name: touch-delegated
      ansible.builtin.file:
        path: "{{ touch_path }}"
        state: touch
      delegate_to: "{{ via }}"
`,
  'app/add-host.yml': `
- hosts: box
  gather_facts: false
  tasks:
    - ansible.builtin.add_host:
        name: "{{ newhost }}"
- hosts: "{{ newhost }}"
  gather_facts: false
  tasks:
    - name: touch-added
      ansible.builtin.file:
        path: "{{ touch_path }}"
        state: touch
`,
  'app/flaky.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: flaky-greeting
      ansible.builtin.debug:
        msg: "greeting={{ greeting | default('none') }}"
    - name: flaky-task
      ansible.builtin.command: "{{ 'false' if should_fail | default(false) else 'true' }}"
`,
  'app/group_vars/all.yml': 'unused: true\n',
  'app/roles/web/tasks/main.yml': '- ansible.builtin.debug: msg=role\n',
  'other/site.yaml': '- hosts: all\n  gather_facts: false\n  tasks: []\n',
};

/**
 * Remote hosts (nothing listens on 127.0.0.2:1: unreachable) and one declared host over the local
 * connection; no localhost: Ansible's implicit localhost must stay out of reach. `loopback` has
 * 127.0.0.1 as its address, which must not make a delegation to 127.0.0.1 count as declared
 * (Ansible delegates that name to its implicit localhost).
 */
const WEBDEV_INVENTORY =
  '[web]\nweb1 ansible_host=127.0.0.2 ansible_port=1\nweb2 ansible_host=127.0.0.3 ansible_port=1\n' +
  '[box]\ndevbox ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n' +
  '[alias]\nloopback ansible_host=127.0.0.1 ansible_port=1\n';

/**
 * For relaunches (YAML, so a host name may be pattern syntax): okbox succeeds, badbox and `ok*`
 * fail app/flaky.yml, deadbox is unreachable (nothing listens on 127.0.0.9:1). As a pattern,
 * `ok*` would also match okbox.
 */
const RELAUNCH_INVENTORY = `all:
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  hosts:
    okbox: { ansible_connection: local }
    "ok*": { ansible_connection: local, should_fail: true }
    badbox: { ansible_connection: local, should_fail: true }
    deadbox: { ansible_host: 127.0.0.9, ansible_port: 1 }
`;

/** Non-admin users with per-user limits, for access-policy tests. */
export const LIMITED_USERS = {
  /** Only `dev`, only ping, only app/ok.yml, no become, no git. */
  narrow: {
    user: 'narrow',
    password: 'narrowpassword',
    inventories: ['dev'],
    modules: ['ping'],
    playbooks: ['app/ok.yml'],
    become: false,
    git: false,
  },
  /** Only `dev`, only the package and service modules. */
  packager: { user: 'packager', password: 'packagerpassword', inventories: ['dev'], modules: ['package', 'service'] },
  /** Only `webdev`: remote hosts and one declared host over the local connection, no localhost. */
  webdev: { user: 'webdev', password: 'webdevpassword', inventories: ['webdev'] },
  /** Only `prod`: must not see jobs that ran on `dev`. */
  produser: { user: 'produser', password: 'prodpassword', inventories: ['prod'] },
  /** Only `relaunch.yml`: hosts that succeed, fail and are unreachable. */
  relauncher: { user: 'relauncher', password: 'relauncherpassword', inventories: ['relaunch.yml'] },
  /** `dev`, and only the vault files under team/ (pass.txt is not theirs). */
  vaultuser: { user: 'vaultuser', password: 'vaultpassword', inventories: ['dev'], vault_files: ['team/*.pass'] },
} as const;

/** What the enclosing repository's tracked file holds after an uncommitted change. */
export const ENCLOSING_ROTATED = 'rotated admin password\n';

/**
 * A throwaway Flansible workspace: playbook and inventory roots, a git repository inside the
 * playbook root with its remote outside, a vault file, rbac.json, and a canary directory that
 * hostile-input tests check stays empty.
 */
export class Fixture {
  readonly root = mkdtempSync(join(tmpdir(), 'flansible-e2e-'));
  readonly playbookRoot = join(this.root, 'playbooks');
  readonly inventoryRoot = join(this.root, 'inventories');
  readonly vaultRoot = join(this.root, 'vault');
  readonly dataDir = join(this.root, 'data');
  readonly outside = join(this.root, 'outside');
  readonly canaryDir = join(this.root, 'canary');
  readonly rbacFile = join(this.root, 'rbac.json');
  readonly repoDir = join(this.playbookRoot, 'repo');
  readonly remoteDir = join(this.root, 'remote.git');
  /** A plain directory inside the playbook root: not a repository, though the fixture root is one. */
  readonly plainDir = join(this.playbookRoot, 'plain');
  /**
   * Tracked in the repository the fixture root is (as rbac.json in a Flansible checkout), with
   * an uncommitted change that a git reset there would revert.
   */
  readonly enclosingTracked = join(this.root, 'tracked.txt');

  constructor() {
    for (const [path, content] of Object.entries(PLAYBOOKS)) this.write(join(this.playbookRoot, path), content);
    for (const name of ['localhost', 'dev', 'prod']) this.write(join(this.inventoryRoot, name), LOCAL_INVENTORY);
    this.write(join(this.inventoryRoot, 'webdev'), WEBDEV_INVENTORY);
    this.write(join(this.inventoryRoot, 'relaunch.yml'), RELAUNCH_INVENTORY);
    this.write(join(this.outside, 'inventory'), LOCAL_INVENTORY);
    this.write(join(this.outside, 'evil.yml'), PLAYBOOKS['app/ok.yml']);
    this.write(join(this.vaultRoot, 'pass.txt'), 'vault-secret\n');
    this.write(join(this.vaultRoot, 'team', 'dev.pass'), 'vault-secret\n');
    // Listed by its place (team/*.pass), but the file it names is not.
    symlinkSync(join(this.vaultRoot, 'pass.txt'), join(this.vaultRoot, 'team', 'alias.pass'));
    this.write(join(this.plainDir, 'site.yml'), PLAYBOOKS['app/ok.yml']);
    // Links inside the roots: one to another inventory (an alias), the others out of their root.
    symlinkSync(join(this.inventoryRoot, 'prod'), join(this.inventoryRoot, 'prod-alias'));
    symlinkSync(join(this.outside, 'inventory'), join(this.inventoryRoot, 'escape'));
    symlinkSync(this.outside, join(this.playbookRoot, 'escape'));
    symlinkSync(this.rbacFile, join(this.vaultRoot, 'escape'));
    mkdirSync(this.canaryDir, { recursive: true });
    mkdirSync(this.dataDir, { recursive: true });
    this.write(this.rbacFile, JSON.stringify({ rbac: this.defaultRbac() }));
    this.createGitRepository();
    this.createEnclosingRepository();
  }

  /** The enclosing repository's tracked file still holds its uncommitted change. */
  enclosingRepositoryUntouched(): boolean {
    return readFileSync(this.enclosingTracked, 'utf8') === ENCLOSING_ROTATED;
  }

  /** The users rbac.json starts with: admin, devadmin (dev and staging, git) and LIMITED_USERS. */
  defaultRbac(): object[] {
    return [
      { user: 'admin', password: 'admin', inventories: [] },
      { user: 'devadmin', password: 'devpassword', inventories: ['dev', join(this.inventoryRoot, 'staging')], git: true },
      ...Object.values(LIMITED_USERS),
    ];
  }

  /** The entries rbac.json holds now. */
  readRbac(): { user: string; [right: string]: unknown }[] {
    return (JSON.parse(readFileSync(this.rbacFile, 'utf8')) as { rbac: { user: string }[] }).rbac;
  }

  /** Replaces rbac.json as editors and config management do: a temporary file renamed over it. */
  writeRbac(entries: readonly object[]): void {
    const temporary = join(this.root, `.rbac.json.${process.hrtime.bigint()}`);
    writeFileSync(temporary, JSON.stringify({ rbac: entries }, null, 2));
    renameSync(temporary, this.rbacFile);
  }

  /** A canary file path: a command that ran injected input would create it. */
  canary(name: string): string {
    return join(this.canaryDir, name);
  }

  canaryExists(): boolean {
    return existsSync(this.canaryDir) && execFileSync('ls', ['-A', this.canaryDir]).toString().trim() !== '';
  }

  env(): Record<string, string> {
    return {
      FLANSIBLE_PLAYBOOK_ROOT: this.playbookRoot,
      FLANSIBLE_INVENTORY_ROOT: this.inventoryRoot,
      FLANSIBLE_VAULT_ROOT: this.vaultRoot,
      FLANSIBLE_DATA_DIR: this.dataDir,
      FLANSIBLE_RBAC_FILE: this.rbacFile,
      FLANSIBLE_DEFAULT_INVENTORY: 'localhost',
      FLANSIBLE_CONFIG_FILE: join(this.root, 'no-config-file.yml'),
    };
  }

  /** Writes a playbook under the playbook root (path relative to it). */
  writePlaybook(path: string, content: string): void {
    this.write(join(this.playbookRoot, path), content);
  }

  /** Adds a commit to the remote, so a pull in repoDir has something to fetch. */
  pushToRemote(file: string, content: string): void {
    const work = mkdtempSync(join(this.root, 'push-'));
    this.git(this.root, 'clone', '-q', this.remoteDir, work);
    writeFileSync(join(work, file), content);
    this.git(work, 'add', file);
    this.git(work, 'commit', '-q', '-m', `add ${file}`);
    this.git(work, 'push', '-q', 'origin', 'master');
  }

  cleanup(): void {
    // A killed gateway's children (its start-up ansible-inventory) may still write into the tree
    // for a moment: rmSync retries ENOTEMPTY for up to ~5 s.
    rmSync(this.root, { recursive: true, force: true, maxRetries: 25, retryDelay: 200 });
  }

  private write(path: string, content: string): void {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  }

  private git(cwd: string, ...args: string[]): void {
    execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@flansible.test', '-c', 'init.defaultBranch=master', ...args], {
      cwd,
      stdio: 'ignore',
    });
  }

  private createGitRepository(): void {
    this.git(this.root, 'init', '-q', '--bare', this.remoteDir);
    this.pushToRemoteInitial();
    this.git(this.root, 'clone', '-q', this.remoteDir, this.repoDir);
  }

  /**
   * Makes the fixture root a repository, as a Flansible checkout enclosing its playbook root
   * is: git searching upward from plainDir would find it. Its own origin, so a fetch and hard
   * reset there would succeed and revert the tracked file.
   */
  private createEnclosingRepository(): void {
    this.write(this.enclosingTracked, 'original\n');
    this.git(this.root, 'init', '-q');
    this.git(this.root, 'add', 'tracked.txt');
    this.git(this.root, 'commit', '-q', '-m', 'tracked');
    this.git(this.root, 'remote', 'add', 'origin', this.root);
    writeFileSync(this.enclosingTracked, ENCLOSING_ROTATED);
  }

  private pushToRemoteInitial(): void {
    const work = join(this.root, 'seed');
    this.git(this.root, 'init', '-q', work);
    this.write(join(work, 'site.yml'), PLAYBOOKS['app/ok.yml']);
    this.git(work, 'add', 'site.yml');
    this.git(work, 'commit', '-q', '-m', 'seed');
    this.git(work, 'push', '-q', this.remoteDir, 'master');
  }
}
