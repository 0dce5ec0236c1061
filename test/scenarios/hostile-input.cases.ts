import { Credentials } from '../support/api-client';
import { Fixture, LIMITED_USERS } from '../support/fixture';

/** One hostile request and the answer it must get. */
export interface HostileCase {
  attack: string;
  name: string;
  path: string;
  /** JSON body, or a raw body with its content type. */
  body?: unknown;
  raw?: { body: string; contentType: string };
  as?: Credentials;
  status: number;
}

export const ADMIN: Credentials = { user: 'admin', password: 'admin' };
export const DEVADMIN: Credentials = { user: 'devadmin', password: 'devpassword' };
export const NARROW: Credentials = { user: LIMITED_USERS.narrow.user, password: LIMITED_USERS.narrow.password };
export const NARROW_PACKAGE: Credentials = { user: LIMITED_USERS.packager.user, password: LIMITED_USERS.packager.password };
export const PRODUSER: Credentials = { user: LIMITED_USERS.produser.user, password: LIMITED_USERS.produser.password };
export const VAULTUSER: Credentials = { user: LIMITED_USERS.vaultuser.user, password: LIMITED_USERS.vaultuser.password };

const CMD = '/api/ansiblecommand';
const BOOK = '/api/ansibleplaybook';
const GIT = '/api/git';
const V1_BOOK = '/api/v1/jobs/playbook';
const ping = (extra: Record<string, unknown> = {}) => ({ host_pattern: 'localhost', module: 'ping', ...extra });
const book = (extra: Record<string, unknown> = {}) => ({ playbook_dir: 'app', playbook: 'ok.yml', ...extra });

/**
 * Every case must be refused with its status, run nothing (the canary file stays absent) and
 * queue nothing (the store's job count stays the same).
 */
export function hostileCases(fixture: Fixture): HostileCase[] {
  const canary = fixture.canary('pwned');
  const shell = [`; touch ${canary}`, `$(touch ${canary})`, `\`touch ${canary}\``, `| touch ${canary}`, `&& touch ${canary}`];
  const cases: HostileCase[] = [];
  const add = (attack: string, name: string, path: string, body: unknown, status: number, as?: Credentials) =>
    cases.push({ attack, name, path, body, status, as });

  // Shell metacharacters: refused by the field's grammar (400) or, for paths, not found (404).
  for (const p of shell) {
    add('command injection', `host_pattern ${p}`, CMD, ping({ host_pattern: p }), 400);
    add('command injection', `module ${p}`, CMD, ping({ module: p }), 400);
    add('command injection', `become_method ${p}`, CMD, ping({ become_method: p }), 400);
    add('command injection', `become_user ${p}`, CMD, ping({ become_user: p }), 400);
    add('command injection', `inventory ${p}`, CMD, ping({ inventory: p }), 404);
    add('command injection', `playbook_dir ${p}`, BOOK, book({ playbook_dir: p }), 404);
    add('command injection', `playbook ${p}`, BOOK, book({ playbook: p }), 404);
    add('command injection', `vault_file ${p}`, BOOK, book({ vault_file: p }), 404);
    add('command injection', `git playbook_dir ${p}`, GIT, { playbook_dir: p }, 404);
    add('command injection', `remote_name ${p}`, GIT, { playbook_dir: 'repo', remote_name: p }, 400);
    add('command injection', `branch_name ${p}`, GIT, { playbook_dir: 'repo', branch_name: p }, 400);
  }

  // Values Ansible or git would read as options.
  add('option injection', 'host_pattern --version', CMD, ping({ host_pattern: '--version' }), 400);
  add('option injection', 'host_pattern -i/etc/passwd', CMD, ping({ host_pattern: '-i/etc/passwd' }), 400);
  add('option injection', 'module -a', CMD, ping({ module: '-a' }), 400);
  add('option injection', 'become_user -K', CMD, ping({ become_user: '-K' }), 400);
  add('option injection', 'become_method --ask-pass', CMD, ping({ become_method: '--ask-pass' }), 400);
  add('option injection', 'inventory --help', CMD, ping({ inventory: '--help' }), 400);
  add('option injection', 'playbook --syntax-check', BOOK, book({ playbook: '--syntax-check' }), 400);
  add('option injection', 'playbook_dir -x', BOOK, book({ playbook_dir: '-x' }), 400);
  add('option injection', 'vault_file --ask-vault-pass', BOOK, book({ vault_file: '--ask-vault-pass' }), 400);
  add('option injection', 'remote_name --upload-pack', GIT, { playbook_dir: 'repo', remote_name: `--upload-pack=touch ${canary}` }, 400);
  add('option injection', 'branch_name --upload-pack', GIT, { playbook_dir: 'repo', branch_name: `--upload-pack=touch ${canary}` }, 400);

  // Paths that leave their root.
  add('path traversal', 'playbook_dir ../..', BOOK, book({ playbook_dir: '../..' }), 403);
  add('path traversal', 'playbook_dir /etc', BOOK, { playbook_dir: '/etc', playbook: 'passwd' }, 403);
  add('path traversal', 'playbook_dir app/../../outside', BOOK, { playbook_dir: 'app/../../outside', playbook: 'evil.yml' }, 403);
  add('path traversal', 'playbook ../../outside/evil.yml', BOOK, book({ playbook: '../../outside/evil.yml' }), 403);
  add('path traversal', 'playbook /etc/passwd', BOOK, book({ playbook: '/etc/passwd' }), 403);
  add('path traversal', 'inventory ../outside/inventory', CMD, ping({ inventory: '../outside/inventory' }), 403);
  add('path traversal', 'inventory /etc/hosts', CMD, ping({ inventory: '/etc/hosts' }), 403);
  add('path traversal', 'vault_file ../rbac.json', BOOK, book({ vault_file: '../rbac.json' }), 403);
  add('path traversal', 'vault_file /etc/shadow', BOOK, book({ vault_file: '/etc/shadow' }), 403);
  add('path traversal', 'git playbook_dir /', GIT, { playbook_dir: '/' }, 403);
  add('path traversal', 'git playbook_dir ..', GIT, { playbook_dir: '..' }, 403);

  // Symlinks inside a root that point out of it.
  add('symlink escape', 'playbook_dir escape/', BOOK, { playbook_dir: 'escape', playbook: 'evil.yml' }, 403);
  add('symlink escape', 'playbook escape/evil.yml', BOOK, { playbook_dir: '.', playbook: 'escape/evil.yml' }, 403);
  add('symlink escape', 'inventory escape', CMD, ping({ inventory: 'escape' }), 403);
  add('symlink escape', 'vault_file escape', BOOK, book({ vault_file: 'escape' }), 403);
  add('symlink escape', 'git playbook_dir escape', GIT, { playbook_dir: 'escape' }, 403);

  // git on a directory that is not the top of its own checkout: git would search upward and act
  // on the repository enclosing the playbook root (the fixture root is one, as a Flansible
  // checkout would be). Refused as not found.
  const plain = { playbook_dir: 'plain', playbook: 'site.yml' };
  add('git outside a repository', 'git reset on a plain directory (non-admin)', GIT, { playbook_dir: 'plain', reset: true }, 404, DEVADMIN);
  add('git outside a repository', 'update_git_repo on a plain directory', BOOK, { ...plain, update_git_repo: true }, 404);
  add('git outside a repository', 'git reset on a plain directory (admin)', GIT, { playbook_dir: 'plain', reset: true }, 404);
  add('git outside a repository', 'git on the playbook root', GIT, { playbook_dir: '.' }, 404);
  add('git outside a repository', 'git on a plain directory by absolute path', GIT, { playbook_dir: fixture.plainDir }, 404);
  add('git outside a repository', 'v1 update_git_repo on a plain directory', V1_BOOK, { ...plain, update_git_repo: true }, 404);
  add('git outside a repository', 'update_git_repo on a plain directory (non-admin)', BOOK, { ...plain, inventory: 'dev', update_git_repo: true }, 404, DEVADMIN);

  // Vault password files a user's rbac entry does not list (devadmin lists none).
  const vault = (vault_file: string) => book({ inventory: 'dev', vault_file });
  add('unlisted vault file', 'vault_file for a user who lists none', BOOK, vault('pass.txt'), 403, DEVADMIN);
  add('unlisted vault file', 'vault_file outside the user globs', BOOK, vault('pass.txt'), 403, VAULTUSER);
  add('unlisted vault file', 'vault_file link in a listed place to an unlisted file', BOOK, vault('team/alias.pass'), 403, VAULTUSER);
  add('unlisted vault file', 'vault_file path aliasing', BOOK, vault('team/../pass.txt'), 403, VAULTUSER);
  add('unlisted vault file', 'missing unlisted vault_file (existence not revealed)', BOOK, vault('nope.pass'), 403, VAULTUSER);
  add('unlisted vault file', 'vault_file on the v1 API', V1_BOOK, vault('pass.txt'), 403, DEVADMIN);
  add('unlisted vault file', 'vault_file for a narrow user', BOOK, vault('pass.txt'), 403, NARROW);

  // Naming a forbidden inventory another way: devadmin may use dev, not prod.
  const inv = fixture.inventoryRoot;
  const all = (inventory?: string) => ({ host_pattern: 'all', module: 'ping', ...(inventory === undefined ? {} : { inventory }) });
  for (const alias of ['prod', './prod', 'dev/../prod', '//prod', `${inv}//prod`, `${inv}/./prod`, `${inv}/dev/../prod`, 'prod-alias']) {
    add('rbac bypass by path aliasing', `inventory ${alias}`, CMD, all(alias), 403, DEVADMIN);
  }
  add('rbac bypass by path aliasing', 'default inventory', CMD, all(), 403, DEVADMIN);
  add('rbac bypass by path aliasing', 'playbook on prod-alias', BOOK, book({ inventory: 'prod-alias' }), 403, DEVADMIN);
  add('rbac bypass by path aliasing', 'inline host list', CMD, all('localhost,'), 400, DEVADMIN);
  add('rbac bypass by path aliasing', 'inline host list of two', CMD, all('host1,host2,'), 400, ADMIN);

  // Per-user limits and the global module allow-list.
  add('permission limits', 'module outside the user list', CMD, { ...all('dev'), module: 'shell', module_args: 'id' }, 403, NARROW);
  add('permission limits', 'playbook outside the user globs', BOOK, book({ playbook: 'fail.yml', inventory: 'dev' }), 403, NARROW);
  add('permission limits', 'become refused', CMD, { ...all('dev'), become: true }, 403, NARROW);
  add('permission limits', 'become_user refused', CMD, { ...all('dev'), become_user: 'root' }, 403, NARROW);
  add('permission limits', 'git refused', GIT, { playbook_dir: 'repo' }, 403, NARROW);
  add('permission limits', 'update_git_repo refused', BOOK, book({ inventory: 'dev', update_git_repo: true }), 403, NARROW);
  // git needs "git": true in the user's entry; produser's says nothing.
  add('permission limits', 'git without a git grant', GIT, { playbook_dir: 'repo' }, 403, PRODUSER);
  add('permission limits', 'update_git_repo without a git grant', BOOK, book({ inventory: 'prod', update_git_repo: true }), 403, PRODUSER);
  add('permission limits', 'v1 update_git_repo without a git grant', V1_BOOK, book({ inventory: 'prod', update_git_repo: true }), 403, PRODUSER);
  add('permission limits', 'module outside the global allow-list', CMD, ping({ module: 'raw', module_args: 'id' }), 403, ADMIN);
  add('permission limits', 'fqcn module outside the global allow-list', CMD, ping({ module: 'ansible.builtin.script' }), 403, ADMIN);

  // Regex host patterns (a backtracking one pins a CPU of the controller) from non-admins.
  const slowRegex = `~${'.*'.repeat(100)}Z`;
  add('regex host patterns', 'host_pattern ~.*…Z', CMD, { ...all('dev'), host_pattern: slowRegex }, 403, DEVADMIN);
  // `limit` is a v1 field.
  add('regex host patterns', 'limit ~.*…Z on a playbook', '/api/v1/jobs/playbook', book({ inventory: 'dev', limit: slowRegex }), 403, DEVADMIN);
  add('regex host patterns', 'host_pattern all:!~db', CMD, { ...all('dev'), host_pattern: 'all:!~db' }, 403, DEVADMIN);
  add('regex host patterns', 'limit ~local on a command', '/api/v1/jobs/command', { ...all('dev'), limit: '~local' }, 403, DEVADMIN);

  // Connection and behaviour variables from non-admins.
  add('ansible_* variables', 'extra_vars ansible_connection', CMD, { ...all('dev'), extra_vars: { ansible_connection: 'local' } }, 403, DEVADMIN);
  add('ansible_* variables', 'extra_vars ANSIBLE_become', CMD, { ...all('dev'), extra_vars: { ANSIBLE_become: true } }, 403, DEVADMIN);
  add('ansible_* variables', 'module_args ansible_python_interpreter', CMD, { ...all('dev'), module_args: { ansible_python_interpreter: '/bin/sh' } }, 403, DEVADMIN);
  add('ansible_* variables', 'module_args string ansible_connection', CMD, { ...all('dev'), module: 'command', module_args: 'id ansible_connection=local' }, 403, DEVADMIN);
  add('ansible_* variables', 'playbook extra_vars ansible_ssh_common_args', BOOK, book({ inventory: 'dev', extra_vars: { ansible_ssh_common_args: `-o ProxyCommand="touch ${canary}"` } }), 403, DEVADMIN);

  // Module arguments that make Ansible read, write or evaluate on the controller (the Flansible host).
  const secret = fixture.rbacFile;
  const onDev = (module: string, module_args: unknown) => ({ ...all('dev'), module, module_args });
  const controllerFile = (name: string, module: string, args: unknown) => add('controller files', name, CMD, onDev(module, args), 403, DEVADMIN);
  controllerFile('copy src (object)', 'copy', { src: secret, dest: canary });
  controllerFile('copy src (key=value)', 'copy', `src=${secret} dest=${canary}`);
  controllerFile('copy src (quoted key=value)', 'copy', `dest=${canary} src="${secret}"`);
  controllerFile('ansible.builtin.copy src', 'ansible.builtin.copy', { src: secret, dest: canary });
  controllerFile('ansible.legacy.copy src', 'ansible.legacy.copy', `src=${secret} dest=${canary}`);
  controllerFile('copy src with remote_src false', 'copy', { src: secret, dest: canary, remote_src: false });
  controllerFile('copy src with remote_src "no"', 'copy', `src=${secret} dest=${canary} remote_src=no`);
  controllerFile('copy src with remote_src yes then no', 'copy', `src=${secret} dest=${canary} remote_src=yes remote_src=no`);
  controllerFile('uri src (object)', 'uri', { url: 'http://127.0.0.1:1/', method: 'POST', src: secret });
  controllerFile('uri src (key=value)', 'ansible.builtin.uri', `url=http://127.0.0.1:1/ method=POST src=${secret}`);
  for (const module of ['template', 'ansible.builtin.template', 'ansible.legacy.template']) {
    add('controller modules', `${module} (object)`, CMD, onDev(module, { src: secret, dest: canary }), 403, DEVADMIN);
  }
  add('controller modules', 'template (key=value)', CMD, onDev('template', `src=${secret} dest=${canary}`), 403, DEVADMIN);
  add('controller modules', 'fetch', CMD, onDev('fetch', { src: '/etc/hostname', dest: canary, flat: true }), 403, DEVADMIN);
  add('controller modules', 'script', CMD, onDev('script', `/bin/touch ${canary}`), 403, DEVADMIN);
  add('controller modules', 'include_vars', CMD, onDev('include_vars', { file: secret }), 403, DEVADMIN);
  add('controller modules', 'unarchive src', CMD, onDev('unarchive', { src: secret, dest: fixture.canaryDir }), 403, DEVADMIN);
  add('controller modules', 'assemble remote_src false', CMD, onDev('assemble', { src: fixture.vaultRoot, dest: canary, remote_src: false }), 403, DEVADMIN);
  add('controller modules', 'ansible.posix.synchronize', CMD, onDev('ansible.posix.synchronize', { src: secret, dest: canary }), 403, DEVADMIN);

  // Module arguments Ansible evaluates as Jinja expressions on the controller, without {{ }}.
  const touchCanary = `lookup('pipe', 'touch ${canary}')`;
  add('evaluated arguments', 'debug var (key=value)', CMD, onDev('debug', `var=${touchCanary.replace(/ /g, '')}`), 403, DEVADMIN);
  add('evaluated arguments', 'debug var (object)', CMD, onDev('debug', { var: touchCanary }), 403, DEVADMIN);
  add('evaluated arguments', 'ansible.builtin.debug var', CMD, onDev('ansible.builtin.debug', `var=${touchCanary.replace(/ /g, '')}`), 403, DEVADMIN);
  add('evaluated arguments', 'assert that (object)', CMD, onDev('assert', { that: [touchCanary] }), 403, DEVADMIN);
  add('evaluated arguments', 'assert that (key=value)', CMD, onDev('ansible.builtin.assert', `that=${touchCanary.replace(/ /g, '')}`), 403, DEVADMIN);

  // Indirections to another module than the one allowed.
  add('module indirection', 'package use command', CMD, onDev('package', { name: 'x', use: 'ansible.builtin.command' }), 403, NARROW_PACKAGE);
  add('module indirection', 'service use (key=value)', CMD, onDev('service', `name=x use=ansible.builtin.shell`), 403, DEVADMIN);
  add('module indirection', 'yum use_backend', CMD, onDev('yum', { name: 'x', use_backend: 'dnf' }), 403, DEVADMIN);

  // Output detail that prints what vault decrypted (-vv and beyond, --diff): rights an admin grants.
  const devBook = (extra: Record<string, unknown>) => book({ inventory: 'dev', ...extra });
  add('output detail', 'verbose_level 2 (legacy)', BOOK, devBook({ verbose_level: 2 }), 403, DEVADMIN);
  add('output detail', 'verbose_level 4', V1_BOOK, devBook({ verbose_level: 4 }), 403, DEVADMIN);
  add('output detail', 'verbose_level 3 on a command', '/api/v1/jobs/command', { ...all('dev'), verbose_level: 3 }, 403, DEVADMIN);
  add('output detail', 'diff true', V1_BOOK, devBook({ diff: true }), 403, DEVADMIN);
  add('output detail', 'diff true with check', V1_BOOK, devBook({ diff: true, check: true }), 403, DEVADMIN);
  add('output detail', 'diff true on a command', '/api/v1/jobs/command', { ...all('dev'), diff: true }, 403, DEVADMIN);
  add('output detail', 'verbose_level "3"', V1_BOOK, devBook({ verbose_level: '3' }), 400, DEVADMIN);
  add('output detail', 'diff "true"', V1_BOOK, devBook({ diff: 'true' }), 400, DEVADMIN);

  // Tags Ansible gives a meaning: `never` tasks run only when selected, `always` ones unless skipped.
  add('special tags', 'tags never', V1_BOOK, devBook({ tags: ['never'] }), 403, DEVADMIN);
  add('special tags', 'tags never among others', V1_BOOK, devBook({ tags: ['deploy', 'never'] }), 403, DEVADMIN);
  for (const skipped of ['always', 'all', 'tagged', 'untagged']) {
    add('special tags', `skip_tags ${skipped}`, V1_BOOK, devBook({ skip_tags: [skipped] }), 403, DEVADMIN);
  }
  // Ansible splits a tag list on commas and trims blanks: such spellings are no tag name.
  add('special tags', 'tags "wipe,never"', V1_BOOK, devBook({ tags: ['wipe,never'] }), 400, DEVADMIN);
  add('special tags', 'skip_tags " always"', V1_BOOK, devBook({ skip_tags: [' always'] }), 400, DEVADMIN);
  add('special tags', 'skip_tags "x,always"', V1_BOOK, devBook({ skip_tags: ['x,always'] }), 400, DEVADMIN);
  add('special tags', 'tags as a string', V1_BOOK, devBook({ tags: 'never' }), 400, DEVADMIN);

  // Ansible's @file syntax reads a file of host names: for nobody.
  add('@file host lists', 'limit @file', '/api/v1/jobs/command', { ...ping(), limit: `@${secret}` }, 400);
  add('@file host lists', 'host_pattern @file', CMD, ping({ host_pattern: `@${secret}` }), 400);
  add('@file host lists', 'limit all:@file', '/api/v1/jobs/command', { ...ping({ host_pattern: 'all' }), limit: `all:@${secret}` }, 400);

  // Jinja in a string Ansible would template on the controller.
  add('jinja in vars', 'module_args string with {{ }}', CMD, ping({ module: 'command', module_args: `{{ lookup('pipe', 'touch ${canary}') }}` }), 400);
  add('jinja in vars', 'module_args string with {% %}', CMD, ping({ module: 'debug', module_args: "msg={% for x in [1] %}x{% endfor %}" }), 400);

  // Wrong types.
  const types: [string, string, unknown][] = [
    ['become "false"', CMD, ping({ become: 'false' })],
    ['forks "5"', CMD, ping({ forks: '5' })],
    ['forks 1.5', CMD, ping({ forks: 1.5 })],
    ['forks 0', CMD, ping({ forks: 0 })],
    ['verbose_level 9', CMD, ping({ verbose_level: 9 })],
    ['extra_vars string', CMD, ping({ extra_vars: 'a=b' })],
    ['extra_vars array', BOOK, book({ extra_vars: [1, 2] })],
    ['module_args array', CMD, ping({ module_args: ['a'] })],
    ['module number', CMD, ping({ module: 5 })],
    ['host_pattern null', CMD, ping({ host_pattern: null })],
    ['inventory object', CMD, ping({ inventory: { path: 'dev' } })],
    ['reset "yes"', GIT, { playbook_dir: 'repo', reset: 'yes' }],
    ['update_git_repo 1', BOOK, book({ update_git_repo: 1 })],
  ];
  for (const [name, path, body] of types) add('wrong types', name, path, body, 400);

  // Unknown fields, missing fields and bodies that are not JSON objects.
  add('malformed body', 'unknown field', CMD, ping({ shell: 'id' }), 400);
  add('malformed body', 'missing module', CMD, { host_pattern: 'localhost' }, 400);
  add('malformed body', 'missing playbook', BOOK, { playbook_dir: 'app' }, 400);
  add('malformed body', 'array body', CMD, [ping()], 400);
  add('malformed body', 'null body', CMD, null, 400);
  cases.push({ attack: 'malformed body', name: 'malformed JSON', path: CMD, raw: { body: '{"host_pattern": ', contentType: 'application/json' }, status: 400 });
  cases.push({ attack: 'malformed body', name: 'form-encoded', path: CMD, raw: { body: 'host_pattern=localhost&module=ping', contentType: 'application/x-www-form-urlencoded' }, status: 415 });
  cases.push({ attack: 'malformed body', name: 'text/plain JSON', path: BOOK, raw: { body: JSON.stringify(book()), contentType: 'text/plain' }, status: 415 });

  // Oversize bodies.
  cases.push({ attack: 'oversize', name: '2 MiB extra_vars', path: CMD, raw: { body: JSON.stringify(ping({ extra_vars: { x: 'a'.repeat(2 * 1024 * 1024) } })), contentType: 'application/json' }, status: 413 });
  cases.push({ attack: 'oversize', name: '2 MiB playbook body', path: BOOK, raw: { body: JSON.stringify(book({ extra_vars: { x: 'b'.repeat(2 * 1024 * 1024) } })), contentType: 'application/json' }, status: 413 });

  // Control characters and look-alike unicode.
  add('unicode and NUL bytes', 'host_pattern with NUL', CMD, ping({ host_pattern: 'local\u0000host' }), 400);
  add('unicode and NUL bytes', 'host_pattern with newline', CMD, ping({ host_pattern: 'localhost\n-i /etc/passwd' }), 400);
  add('unicode and NUL bytes', 'module with ñ', CMD, ping({ module: 'pi\u00f1g' }), 400);
  add('unicode and NUL bytes', 'inventory with NUL', CMD, ping({ inventory: 'dev\u0000' }), 400);
  add('unicode and NUL bytes', 'playbook with NUL', BOOK, book({ playbook: 'ok.yml\u0000.txt' }), 400);
  add('unicode and NUL bytes', 'playbook_dir with newline', BOOK, book({ playbook_dir: 'app\n' }), 400);
  add('unicode and NUL bytes', 'become_user with zero-width space', CMD, ping({ become_user: 'r\u200boot' }), 400);
  add('unicode and NUL bytes', 'remote_name with í', GIT, { playbook_dir: 'repo', remote_name: 'or\u00edgin' }, 400);
  add('unicode and NUL bytes', 'branch_name with newline', GIT, { playbook_dir: 'repo', branch_name: 'ma\nster' }, 400);
  add('unicode and NUL bytes', 'module_args string with NUL', CMD, ping({ module: 'debug', module_args: 'msg=a\u0000b' }), 400);
  add('unicode and NUL bytes', 'vault_file with RTL override', BOOK, book({ vault_file: 'pass\u202etxt' }), 404);

  return cases;
}

/** A number in a read request (query, cursor or Last-Event-ID) and the answer it must get from either store. */
export interface NumericCase {
  name: string;
  /** Under /api/v1/jobs; `{job}` stands for a finished job's id. */
  path: string;
  lastEventId?: string;
  status: 200 | 400;
  /** The 400's message, the same from SQLite and PostgreSQL. */
  message?: string;
}

const MAX_INT32 = 2147483647;
const listCursor = (ms: string, id = '5b0c2d4e-8f1a-4b3c-9d2e-7f6a5b4c3d2e') => Buffer.from(`${ms}.${id}`).toString('base64url');

/**
 * Numbers meet `integer` (32-bit in PostgreSQL) and `bigint` columns: beyond them PostgreSQL fails
 * (500, or a stream cut off after its 200) where SQLite answers. Each is a 400 before any header,
 * from both; the edge values still answer 200.
 */
export function numericInputCases(): NumericCase[] {
  const cases: NumericCase[] = [];
  const add = (name: string, path: string, status: 200 | 400, message?: string) => cases.push({ name, path, status, message });
  const lastEventId = 'Last-Event-ID must be an id this stream sent (lines:events, each from 0 to 2147483647)';
  const stream = (id: string, status: 200 | 400) =>
    cases.push({ name: `stream Last-Event-ID ${id}`, path: '/{job}/stream', lastEventId: id, status, ...(status === 400 ? { message: lastEventId } : {}) });

  const after = 'after must be an integer from 0 to 2147483647';
  add('events after=2147483648', '/{job}/events?after=2147483648', 400, after);
  add('events after=99999999999999999999', '/{job}/events?after=99999999999999999999', 400, after);
  for (const spelling of ['1e3', '0x10', '%2B1', '%201', '', '-1', 'NaN', 'Infinity', '1.5']) {
    add(`events after=${spelling}`, `/{job}/events?after=${spelling}`, 400, after);
  }
  add('events after=2147483647', `/{job}/events?after=${MAX_INT32}`, 200);
  add('events after=0', '/{job}/events?after=0', 200);
  add('events limit=1e3', '/{job}/events?limit=1e3', 400, 'limit must be an integer from 1 to 1000');

  add('output start_line=2147483648', '/{job}/output?start_line=2147483648', 400, 'start_line must be an integer from 1 to 2147483647');
  add('output end_line=2147483648', '/{job}/output?start_line=2147483000&end_line=2147483648', 400, 'end_line must be an integer from 1 to 2147483647');
  add('output end_line=1e3', '/{job}/output?end_line=1e3', 400, 'end_line must be an integer from 1 to 2147483647');
  add('output start_line=2147483647', `/{job}/output?start_line=${MAX_INT32}`, 200);
  add('output start_line=end_line=2147483647', `/{job}/output?start_line=${MAX_INT32}&end_line=${MAX_INT32}`, 200);

  const cursor = 'cursor must be a next_cursor value from a previous page';
  add('list cursor at 99999999999999999999 ms', `?cursor=${listCursor('99999999999999999999')}`, 400, cursor);
  add('list cursor at 2^63 ms', `?cursor=${listCursor('9223372036854775808')}`, 400, cursor);
  add('list cursor past the last Date', `?cursor=${listCursor('8640000000000001')}`, 400, cursor);
  add('list cursor with NUL in its id', `?cursor=${listCursor('1764000000000', 'a\u0000b')}`, 400, cursor);
  add('list cursor at the last Date', `?cursor=${listCursor('8640000000000000')}`, 200);
  add('list limit=1e2', '?limit=1e2', 400, 'limit must be an integer from 1 to 500');
  add('list created_before the last Date', '?created_before=%2B275760-09-13T00:00:00.000Z', 200);
  add('list created_after the first Date', '?created_after=-271821-04-20T00:00:00.000Z', 200);

  for (const id of ['0:2147483648', '2147483648:0', '0:99999999999999999999', '1e3:0', '0:0x10', '-1:0', '0:0:0']) stream(id, 400);
  stream(`${MAX_INT32}:${MAX_INT32}`, 200);
  stream('0:0', 200);
  return cases;
}
