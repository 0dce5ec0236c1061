import { Logger } from '@nestjs/common';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlansibleConfig } from '@flansible/config';
import { eventually, FakeClock } from '@flansible/testing';
import { InsecureDefaultCredentialsError } from './default-credentials';
import { hashPassword } from './password-hash';
import { RbacFileError } from './rbac-file';
import { RbacService, RbacServiceOptions } from './rbac.service';

// The real module object, so the spy sees the calls RbacService makes through it.
const passwordHash = require('./password-hash') as typeof import('./password-hash');

type Entry = Record<string, unknown>;
/** Most tests reload by hand; the watcher tests watch the directory only (the stat poll is slowed to a minute). */
const MANUAL: Partial<RbacServiceOptions> = { watch: false };
const WATCH_DIRECTORY: Partial<RbacServiceOptions> = { watch: true, watchDebounceMs: 20, watchPollIntervalMs: 60_000 };

/** The watcher reacts within tens of milliseconds: look often, give up after 5 s. */
const watched = (check: () => Promise<boolean>, what: string) => eventually(check, what, { timeoutMs: 5_000, intervalMs: 25 });

describe('RbacService', () => {
  let dir: string;
  let file: string;
  const services: RbacService[] = [];
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;
  let verify: jest.SpyInstance;
  let hashes: { alice: string; bob: string };

  const write = (...rbac: Entry[]) => writeFileSync(file, JSON.stringify({ rbac }, null, 2));
  /** As editors and config management do: write a temporary file beside it, rename over it. */
  const replace = (...rbac: Entry[]) => {
    const temporary = join(dir, `.rbac.json.${process.hrtime.bigint()}`);
    writeFileSync(temporary, JSON.stringify({ rbac }));
    renameSync(temporary, file);
  };
  const start = async (host = '127.0.0.1', options: Partial<RbacServiceOptions> = {}, clock?: FakeClock) => {
    const service = new RbacService({ rbacFile: file, host } as FlansibleConfig, { ...MANUAL, ...options }, clock);
    services.push(service);
    await service.onModuleInit();
    return service;
  };
  const messages = (spy: jest.SpyInstance) => spy.mock.calls.map((call) => String(call[0]));

  beforeAll(async () => {
    hashes = { alice: await hashPassword('alice-pw', { ln: 10 }), bob: await hashPassword('bob:pw', { ln: 10 }) };
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flansible-rbac-'));
    file = join(dir, 'rbac.json');
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    verify = jest.spyOn(passwordHash, 'verifyPasswordHash');
  });

  afterEach(() => {
    for (const service of services.splice(0)) service.onModuleDestroy();
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates hashed and plaintext users, with their inventories and limits', async () => {
    write(
      { user: 'alice', password: hashes.alice, inventories: ['dev'], modules: ['ping'], become: false },
      { user: 'carol', password: 'carol-plain', inventories: [], admin: true },
    );
    const rbac = await start();
    expect(await rbac.authenticate('alice', 'alice-pw')).toEqual({
      name: 'alice',
      isAdmin: false,
      inventories: ['dev'],
      limits: { modules: ['ping'], playbooks: undefined, become: false, git: false, maxVerbosity: 1, diff: false },
    });
    expect(await rbac.authenticate('carol', 'carol-plain')).toMatchObject({ name: 'carol', isAdmin: true });
    expect(await rbac.authenticate('alice', 'wrong')).toBeNull();
    expect(await rbac.authenticate('carol', 'carol-plai')).toBeNull();
    expect(await rbac.authenticate('carol', 'carol-plain ')).toBeNull();
  });

  it('checks unknown users against a decoy hash, so they take the same path', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    verify.mockClear();
    expect(await rbac.authenticate('mallory', 'alice-pw')).toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['an unknown user', 'mallory', 'alice-pw'],
    ['a wrong password for a hashed user', 'alice', 'wrong'],
    ['a wrong password for a plaintext user', 'carol', 'wrong'],
  ])('runs exactly one scrypt check for %s, so every failure takes as long', async (_what, name, password) => {
    write({ user: 'alice', password: hashes.alice }, { user: 'carol', password: 'carol-plain' });
    const rbac = await start();
    verify.mockClear();
    expect(await rbac.authenticate(name, password)).toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await rbac.authenticate(name, password)).toBeNull();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('checks plaintext users against a decoy hash at the default cost, like unknown users', async () => {
    write({ user: 'alice', password: hashes.alice }, { user: 'carol', password: 'carol-plain' });
    const rbac = await start();
    verify.mockClear();
    await rbac.authenticate('carol', 'wrong');
    await rbac.authenticate('mallory', 'wrong');
    const [[, plaintextDecoy], [, unknownDecoy]] = verify.mock.calls as [string, { ln: number; encoded: string }][];
    expect(plaintextDecoy).toBe(unknownDecoy);
    expect(plaintextDecoy.ln).toBe(passwordHash.SCRYPT_DEFAULTS.ln);
  });

  it('remembers a successful plaintext check like a hash check, but never a failure', async () => {
    write({ user: 'carol', password: 'carol-plain' });
    const rbac = await start();
    verify.mockClear();
    expect(await rbac.authenticate('carol', 'carol-plain')).not.toBeNull();
    expect(await rbac.authenticate('carol', 'carol-plain')).not.toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await rbac.authenticate('carol', 'carol-plai')).toBeNull();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('applies a changed plaintext password at once, even while the old one is remembered', async () => {
    write({ user: 'carol', password: 'carol-plain' });
    const rbac = await start();
    expect(await rbac.authenticate('carol', 'carol-plain')).not.toBeNull();
    write({ user: 'carol', password: 'carol-new' });
    expect(await rbac.reload()).toBe(true);
    expect(await rbac.authenticate('carol', 'carol-plain')).toBeNull();
    expect(await rbac.authenticate('carol', 'carol-new')).not.toBeNull();
  });

  it('warns once per plaintext user, at boot and for users added later', async () => {
    write({ user: 'alice', password: hashes.alice }, { user: 'carol', password: 'c' }, { user: 'dave', password: 'd' });
    const rbac = await start();
    const plaintext = () => messages(warn).filter((m) => m.includes('plaintext password'));
    expect(plaintext()).toEqual([
      `User "carol" in FLANSIBLE_RBAC_FILE ${file} has a plaintext password: replace it with the hash that npm run hash-password prints`,
      `User "dave" in FLANSIBLE_RBAC_FILE ${file} has a plaintext password: replace it with the hash that npm run hash-password prints`,
    ]);
    write({ user: 'carol', password: 'c2' }, { user: 'dave', password: 'd' }, { user: 'erin', password: 'e' });
    expect(await rbac.reload()).toBe(true);
    expect(plaintext()).toHaveLength(3);
    expect(plaintext()[2]).toContain('User "erin"');
  });

  it('remembers a successful hash check instead of hashing again, but never a failure', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    verify.mockClear();
    expect(await rbac.authenticate('alice', 'alice-pw')).not.toBeNull();
    expect(await rbac.authenticate('alice', 'alice-pw')).not.toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await rbac.authenticate('alice', 'wrong')).toBeNull();
    expect(await rbac.authenticate('alice', 'wrong')).toBeNull();
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('shares one hash check among parallel requests with the same credentials', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    verify.mockClear();
    const users = await Promise.all(Array.from({ length: 20 }, () => rbac.authenticate('alice', 'alice-pw')));
    expect(users.every((user) => user?.name === 'alice')).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('forgets a remembered check after its time (on its injected clock)', async () => {
    write({ user: 'alice', password: hashes.alice });
    const clock = new FakeClock();
    const rbac = await start('127.0.0.1', { cacheTtlMs: 150 }, clock);
    verify.mockClear();
    await rbac.authenticate('alice', 'alice-pw');
    clock.advance(149);
    await rbac.authenticate('alice', 'alice-pw');
    expect(verify).toHaveBeenCalledTimes(1);
    clock.advance(1);
    expect(await rbac.authenticate('alice', 'alice-pw')).not.toBeNull();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('applies a changed password at once, even while the old one is remembered', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    expect(await rbac.authenticate('alice', 'alice-pw')).not.toBeNull();
    write({ user: 'alice', password: await hashPassword('new-pw', { ln: 10 }) });
    expect(await rbac.reload()).toBe(true);
    expect(await rbac.authenticate('alice', 'alice-pw')).toBeNull();
    expect(await rbac.authenticate('alice', 'new-pw')).not.toBeNull();
  });

  it('applies a removed user at once', async () => {
    write({ user: 'alice', password: hashes.alice }, { user: 'bob', password: hashes.bob });
    const rbac = await start();
    expect(await rbac.authenticate('bob', 'bob:pw')).not.toBeNull();
    write({ user: 'alice', password: hashes.alice });
    await rbac.reload();
    expect(await rbac.authenticate('bob', 'bob:pw')).toBeNull();
  });

  it('reloads by itself when the file is written in place', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start('127.0.0.1', WATCH_DIRECTORY);
    write({ user: 'alice', password: hashes.alice }, { user: 'bob', password: hashes.bob, inventories: ['dev'] });
    await watched(async () => (await rbac.authenticate('bob', 'bob:pw')) !== null, 'bob to be added');
    expect(messages(Logger.prototype.log as unknown as jest.SpyInstance)).toContain(`Reloaded ${file}: 2 users`);
  });

  it('reloads by itself when the file is replaced by a rename, again and again', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start('127.0.0.1', WATCH_DIRECTORY);
    replace({ user: 'alice', password: hashes.alice }, { user: 'bob', password: hashes.bob });
    await watched(async () => (await rbac.authenticate('bob', 'bob:pw')) !== null, 'bob to be added');
    // The watch must follow the new file, not the inode it started with.
    replace({ user: 'bob', password: hashes.bob });
    await watched(async () => (await rbac.authenticate('alice', 'alice-pw')) === null, 'alice to be removed');
  });

  it('also notices changes by polling the file (file systems without change events)', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start('127.0.0.1', { watch: true, watchDebounceMs: 20, watchPollIntervalMs: 50 });
    (rbac as unknown as { watcher: { dirWatcher: { close(): void } | null } }).watcher.dirWatcher?.close();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the poll's first stat is its baseline
    replace({ user: 'bob', password: hashes.bob });
    await watched(async () => (await rbac.authenticate('bob', 'bob:pw')) !== null, 'bob to be added');
  });

  it('keeps the last good users when the file becomes malformed, and says why once', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    writeFileSync(file, '{"rbac": [ {"user": "alice", ');
    expect(await rbac.reload()).toBe(false);
    expect(await rbac.reload()).toBe(false);
    expect(await rbac.authenticate('alice', 'alice-pw')).not.toBeNull();
    expect(messages(error)).toHaveLength(1);
    expect(messages(error)[0]).toMatch(new RegExp(`^Not reloading: FLANSIBLE_RBAC_FILE ${file} is not valid JSON: .*; keeping the 1 users loaded before$`));
    write({ user: 'alice', password: hashes.alice, become: 'sometimes' });
    expect(await rbac.reload()).toBe(false);
    expect(messages(error)[1]).toContain('entry 0 (user "alice") "become" must be true or false');
    write({ user: 'bob', password: hashes.bob });
    expect(await rbac.reload()).toBe(true);
    expect(rbac.userNames).toEqual(['bob']);
  });

  it('looks a user up by name as the file says now', async () => {
    write({ user: 'alice', password: hashes.alice, inventories: ['dev'] });
    const rbac = await start();
    expect(rbac.userNamed('alice')).toMatchObject({ name: 'alice', isAdmin: false, inventories: ['dev'] });
    expect(rbac.userNamed('bob')).toBeUndefined();
    write({ user: 'alice', password: hashes.alice, inventories: [] }, { user: 'bob', password: hashes.bob, admin: true });
    expect(await rbac.reload()).toBe(true);
    expect(rbac.userNamed('alice')).toMatchObject({ inventories: [] });
    expect(rbac.userNamed('bob')).toMatchObject({ name: 'bob', isAdmin: true });
  });

  it('tells reload listeners of changed files only, until they unsubscribe', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    const heard: string[][] = [];
    const failing = rbac.onReload(() => {
      throw new Error('listener bug');
    });
    const stop = rbac.onReload(() => heard.push(rbac.userNames));
    expect(await rbac.reload()).toBe(false); // unchanged
    write({ user: 'bob', password: hashes.bob });
    expect(await rbac.reload()).toBe(true);
    writeFileSync(file, 'not json');
    expect(await rbac.reload()).toBe(false); // rejected: the rights in effect did not change
    expect(heard).toEqual([['bob']]);
    expect(messages(error)).toContainEqual('A reload listener failed: listener bug');
    stop();
    failing();
    write({ user: 'carol', password: hashes.bob });
    expect(await rbac.reload()).toBe(true);
    expect(heard).toHaveLength(1);
  });

  it('keeps the last good users while the file is missing', async () => {
    write({ user: 'alice', password: hashes.alice });
    const rbac = await start();
    rmSync(file);
    expect(await rbac.reload()).toBe(false);
    expect(messages(error)[0]).toContain('cannot be read: ENOENT');
    expect(await rbac.authenticate('alice', 'alice-pw')).not.toBeNull();
  });

  it('refuses to start without a good file, naming FLANSIBLE_RBAC_FILE', async () => {
    await expect(start()).rejects.toThrow(new RbacFileError(`FLANSIBLE_RBAC_FILE ${file} cannot be read: ENOENT: no such file or directory, open '${file}'`));
    writeFileSync(file, 'not json');
    await expect(start()).rejects.toThrow(RbacFileError);
    await expect(start()).rejects.toThrow(`FLANSIBLE_RBAC_FILE ${file} is not valid JSON`);
  });

  it('refuses default credentials beyond loopback, at start and at reload', async () => {
    write({ user: 'admin', password: 'admin' });
    await expect(start('0.0.0.0')).rejects.toThrow(InsecureDefaultCredentialsError);
    write({ user: 'admin', password: hashes.alice });
    const rbac = await start('0.0.0.0');
    write({ user: 'admin', password: hashes.alice }, { user: 'devadmin', password: await hashPassword('devpassword', { ln: 10 }) });
    expect(await rbac.reload()).toBe(false);
    expect(messages(error)[0]).toMatch(/^Not reloading: refusing to listen on FLANSIBLE_HOST=0\.0\.0\.0 .*devadmin\/devpassword/);
    expect(rbac.userNames).toEqual(['admin']);
  });

  it('warns about default credentials on loopback, at start and at reload', async () => {
    write({ user: 'admin', password: 'admin' });
    const rbac = await start('127.0.0.1');
    const defaults = () => messages(warn).filter((m) => m.includes('default credentials'));
    expect(defaults()).toEqual([expect.stringMatching(/still has the default credentials admin\/admin: .*FLANSIBLE_HOST=127\.0\.0\.1.*npm run hash-password/)]);
    write({ user: 'admin', password: 'admin' }, { user: 'x', password: hashes.alice });
    await rbac.reload();
    expect(defaults()).toHaveLength(2);
  });
});
