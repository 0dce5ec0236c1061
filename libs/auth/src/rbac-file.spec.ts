import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from './password-hash';
import { parseRbacFile, RbacFileError, readRbacFile } from './rbac-file';

const FILE = '/etc/flansible/rbac.json';
const parse = (...rbac: unknown[]) => parseRbacFile(JSON.stringify({ rbac }), FILE);

describe('rbac.json', () => {
  it('reads the original Flansible format, with the new limits at their defaults', () => {
    const [admin, dev] = parse(
      { user: 'admin', password: 'admin', inventories: [] },
      { user: 'devadmin', password: 'devpassword', inventories: ['dev', '/srv/inventories/staging'] },
    );
    expect(admin).toMatchObject({ user: 'admin', credential: { kind: 'plaintext', password: 'admin' }, inventories: [] });
    expect(dev.inventories).toEqual(['dev', '/srv/inventories/staging']);
    expect(dev.limits).toEqual({ modules: undefined, playbooks: undefined, become: true, git: false, maxVerbosity: 1, diff: false });
  });

  it('grants git only to an entry that says "git": true (unlike the original Flansible)', () => {
    const [granted, refused, unsaid] = parse(
      { user: 'puller', password: 'x', git: true },
      { user: 'reader', password: 'x', git: false },
      { user: 'legacy', password: 'x', inventories: ['dev'] },
    );
    expect([granted.limits.git, refused.limits.git, unsaid.limits.git]).toEqual([true, false, false]);
  });

  it('reads a scrypt hash from the password field', async () => {
    const encoded = await hashPassword('pw', { ln: 10 });
    const [entry] = parse({ user: 'ops', password: encoded, inventories: ['dev'] });
    expect(entry.credential).toMatchObject({ kind: 'hash', hash: { ln: 10, r: 8, p: 1, encoded } });
    expect(entry.password).toBe(encoded);
  });

  it('reads per-user limits', () => {
    const [entry] = parse({
      user: 'narrow',
      password: 'x',
      inventories: ['dev'],
      modules: ['ping', 'ansible.builtin.setup'],
      playbooks: ['app/*.yml', 'web/**'],
      become: false,
      git: false,
      admin: false,
    });
    expect(entry.limits).toEqual({ modules: ['ping', 'ansible.builtin.setup'], playbooks: ['app/*.yml', 'web/**'], become: false, git: false, maxVerbosity: 1, diff: false });
    expect(entry.admin).toBe(false);
  });

  it('reads the vault files a user may use, as globs relative to the vault root', () => {
    const [entry] = parse({ user: 'u', password: 'x', vault_files: ['dev.pass', 'team/*.pass'] });
    expect(entry.limits.vaultFiles).toEqual(['dev.pass', 'team/*.pass']);
    expect(parse({ user: 'v', password: 'x' })[0].limits.vaultFiles).toBeUndefined();
  });

  it('reads the verbosity, diff and tag rights an admin grants', () => {
    const [entry] = parse({ user: 'u', password: 'x', max_verbosity: 4, diff: true, tags: ['deploy', 'config.v2'] });
    expect(entry.limits).toMatchObject({ maxVerbosity: 4, diff: true, tags: ['deploy', 'config.v2'] });
    expect(parse({ user: 'v', password: 'x' })[0].limits).toMatchObject({ maxVerbosity: 1, diff: false, tags: undefined });
  });

  it('allows an empty module list: no ad-hoc commands at all', () => {
    expect(parse({ user: 'u', password: 'x', modules: [] })[0].limits.modules).toEqual([]);
  });

  it.each([
    [{ user: 'u', password: 'x', modules: 'ping' }, 'entry 0 (user "u") "modules" must be a list of non-empty strings'],
    [{ user: 'u', password: 'x', modules: ['ping', 3] }, '"modules" must be a list of non-empty strings'],
    [{ user: 'u', password: 'x', modules: ['ping; rm'] }, '"modules" has an invalid module name "ping; rm"'],
    // The request's module grammar: a name no request could carry is a mistake in the file.
    [{ user: 'u', password: 'x', modules: ['community..general'] }, '"modules" has an invalid module name "community..general"'],
    [{ user: 'u', password: 'x', playbooks: [''] }, '"playbooks" must be a list of non-empty strings'],
    [{ user: 'u', password: 'x', playbooks: ['/etc/*.yml'] }, '"playbooks" entry "/etc/*.yml" must be a glob relative to the playbook root'],
    [{ user: 'u', password: 'x', playbooks: ['app/../../x.yml'] }, 'must be a glob relative to the playbook root'],
    [{ user: 'u', password: 'x', vault_files: 'dev.pass' }, '"vault_files" must be a list of non-empty strings'],
    [{ user: 'u', password: 'x', vault_files: ['/srv/vault/*.pass'] }, '"vault_files" entry "/srv/vault/*.pass" must be a glob relative to the vault root'],
    [{ user: 'u', password: 'x', vault_files: ['../rbac.json'] }, 'must be a glob relative to the vault root'],
    [{ user: 'u', password: 'x', vault_file: ['dev.pass'] }, 'entry 0 (user "u") has unknown field(s) "vault_file"'],
    [{ user: 'u', password: 'x', become: 'no' }, 'entry 0 (user "u") "become" must be true or false'],
    [{ user: 'u', password: 'x', git: 0 }, '"git" must be true or false'],
    [{ user: 'u', password: 'x', git: 'true' }, '"git" must be true or false'],
    [{ user: 'u', password: 'x', git: null }, '"git" must be true or false'],
    [{ user: 'u', password: 'x', admin: 'yes' }, '"admin" must be true or false'],
    [{ user: 'u', password: 'x', inventories: 'dev' }, '"inventories" must be a list of non-empty strings'],
    [{ user: 'u', password: 'x', becom: false }, 'entry 0 (user "u") has unknown field(s) "becom"'],
    [{ user: 'u', password: 'x', max_verbosity: 5 }, '"max_verbosity" must be an integer from 0 to 4'],
    [{ user: 'u', password: 'x', max_verbosity: 1.5 }, '"max_verbosity" must be an integer from 0 to 4'],
    [{ user: 'u', password: 'x', max_verbosity: '4' }, '"max_verbosity" must be an integer from 0 to 4'],
    [{ user: 'u', password: 'x', maxVerbosity: 4 }, 'has unknown field(s) "maxVerbosity"'],
    [{ user: 'u', password: 'x', diff: 'yes' }, '"diff" must be true or false'],
    [{ user: 'u', password: 'x', tags: 'deploy' }, '"tags" must be a list of non-empty strings'],
    [{ user: 'u', password: 'x', tags: ['a b'] }, '"tags" has an invalid tag name "a b"'],
    [{ user: 'u', password: 'x', skip_tags: ['a'] }, 'has unknown field(s) "skip_tags"'],
    [{ user: 'u', password: '' }, 'entry 0 (user "u") needs a "password" string'],
    [{ user: 'u' }, 'needs a "password" string'],
    [{ user: 'u', password: 'pa:ss' }, 'entry 0 (user "u") "password" must not contain a colon'],
    [{ user: 'a:b', password: 'x' }, 'entry 0 needs a "user" string (not empty, no colon'],
    [{ password: 'x' }, 'entry 0 needs a "user" string'],
    ['admin', 'entry 0 must be an object'],
    [{ user: 'u', password: '$scrypt$ln=15$zz' }, 'entry 0 (user "u") "password" looks like a hash but is not a $scrypt$'],
    [{ user: 'u', password: '$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz012' }, 'uses "2b"; only scrypt hashes are supported'],
  ])('refuses %j, naming the entry', (entry, message) => {
    expect(() => parse(entry)).toThrow(RbacFileError);
    expect(() => parse(entry)).toThrow(`FLANSIBLE_RBAC_FILE ${FILE}: entry 0`);
    expect(() => parse(entry)).toThrow(message);
  });

  it('refuses a repeated user', () => {
    expect(() => parse({ user: 'u', password: 'x' }, { user: 'u', password: 'y' })).toThrow('entry 1 repeats user "u"');
  });

  it.each([
    ['{"rbac": [', 'is not valid JSON'],
    ['[]', 'must hold {"rbac": [...]}'],
    ['{"users": []}', 'must hold {"rbac": [...]}'],
  ])('refuses the document %s', (text, message) => {
    expect(() => parseRbacFile(text, FILE)).toThrow(`FLANSIBLE_RBAC_FILE ${FILE} ${message}`);
  });

  it('names the file when it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flansible-rbac-'));
    try {
      expect(() => readRbacFile(join(dir, 'missing.json'))).toThrow(`FLANSIBLE_RBAC_FILE ${join(dir, 'missing.json')} cannot be read: ENOENT`);
      writeFileSync(join(dir, 'rbac.json'), JSON.stringify({ rbac: [{ user: 'u', password: 'x' }] }));
      expect(readRbacFile(join(dir, 'rbac.json'))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
