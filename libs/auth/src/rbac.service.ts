import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Clock, FlansibleConfig, SYSTEM_CLOCK } from '@flansible/config';
import { AuthenticatedUser } from './authenticated-user';
import { checkRbacText, InsecureDefaultCredentialsError } from './default-credentials';
import { FileWatcher } from './file-watcher';
import { decoyPasswordHash, normalize, PasswordHash, verifyPasswordHash } from './password-hash';
import { RbacEntry, RbacFileError, readRbacText, StoredCredential } from './rbac-file';
import { VerifiedLoginCache } from './verified-login-cache';

export interface RbacServiceOptions {
  /** How long a successful hash check is remembered (0: never). */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** Reload rbac.json when it changes on disk. */
  watch: boolean;
  watchDebounceMs: number;
  watchPollIntervalMs: number;
}

export const DEFAULT_RBAC_SERVICE_OPTIONS: RbacServiceOptions = {
  cacheTtlMs: 60_000,
  cacheMaxEntries: 1_000,
  watch: true,
  watchDebounceMs: 100,
  watchPollIntervalMs: 2_000,
};

/** Optional provider to tune RbacService (tests use short intervals). */
export const RBAC_SERVICE_OPTIONS = Symbol('RBAC_SERVICE_OPTIONS');

interface LoadedRbac {
  /** sha256 of the file's text: a reload with the same content changes nothing. */
  digest: string;
  users: Map<string, RbacEntry>;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();
/** Hashing first gives equal lengths, so timingSafeEqual never leaks the stored password's length. */
const plaintextEquals = (stored: string, given: string) => timingSafeEqual(sha256(normalize(stored)), sha256(normalize(given)));

/**
 * Users from rbac.json and their password check. The file is read at start (the gateway refuses
 * to start without a good one) and again whenever it changes on disk; a bad edit keeps the last
 * good users and is logged.
 */
@Injectable()
export class RbacService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RbacService.name);
  private readonly options: RbacServiceOptions;
  private readonly file: string;
  private current: LoadedRbac | null = null;
  /** A rejected version is logged once, not at every poll. */
  private rejectedDigest: string | null = null;
  private readonly warnedPlaintext = new Set<string>();
  private readonly verified: VerifiedLoginCache;
  /** Parallel requests with the same credentials share one scrypt run. */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  /** Unknown users and plaintext entries are checked against this, so they take as long as users with a hash. */
  private readonly decoy = decoyPasswordHash();
  private watcher: FileWatcher | null = null;
  private reloads: Promise<unknown> = Promise.resolve();
  private readonly reloadListeners = new Set<() => void>();

  constructor(
    private readonly config: FlansibleConfig,
    @Optional() @Inject(RBAC_SERVICE_OPTIONS) options?: Partial<RbacServiceOptions>,
    @Optional() private readonly clock: Clock = SYSTEM_CLOCK,
  ) {
    this.options = { ...DEFAULT_RBAC_SERVICE_OPTIONS, ...options };
    this.file = config.rbacFile;
    this.verified = new VerifiedLoginCache({ ttlMs: this.options.cacheTtlMs, maxEntries: this.options.cacheMaxEntries });
  }

  /** Throws RbacFileError / InsecureDefaultCredentialsError: without good users there is no gateway. */
  async onModuleInit(): Promise<void> {
    const text = readRbacText(this.file);
    await this.apply(text);
    if (this.options.watch) {
      this.watcher = new FileWatcher(
        this.file,
        () => void this.reload(),
        { debounceMs: this.options.watchDebounceMs, pollIntervalMs: this.options.watchPollIntervalMs },
        (err) => this.logger.warn(`Cannot watch the directory of ${this.file} (${err.message}); checking it every ${this.options.watchPollIntervalMs} ms instead`),
      );
      this.watcher.start();
    }
  }

  onModuleDestroy(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  /**
   * Reads rbac.json again. Resolves true when a changed, valid file is now in effect; false when
   * it was unchanged or rejected (the previous users stay, and the reason is logged).
   */
  reload(): Promise<boolean> {
    const run = this.reloads.then(() => this.reloadOnce());
    this.reloads = run.catch(() => undefined);
    return run;
  }

  /** The user when name and password match, else null. Failed checks take the same path whether or not the user exists, hashed or plaintext. */
  async authenticate(name: string, password: string): Promise<AuthenticatedUser | null> {
    const entry = this.current?.users.get(name);
    const matches = await this.check(name, entry?.credential, password);
    if (!entry || !matches) return null;
    // rbac.json may have been reloaded during the check: answer with the user as it is now.
    const latest = this.current?.users.get(name);
    if (!latest || latest.password !== entry.password) return null;
    return userOf(latest);
  }

  /** Users currently in effect. */
  get userNames(): string[] {
    return [...(this.current?.users.keys() ?? [])];
  }

  /** The user of that name as rbac.json says now (no password check), or undefined when none. */
  userNamed(name: string): AuthenticatedUser | undefined {
    const entry = this.current?.users.get(name);
    return entry ? userOf(entry) : undefined;
  }

  /**
   * Calls `listener` after every reload that put a changed file in effect, so holders of rights
   * granted earlier (open streams) can check them again. Returns the unsubscribe function.
   */
  onReload(listener: () => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /** Users currently in effect, with their rights (no credentials). */
  get users(): AuthenticatedUser[] {
    return [...(this.current?.users.values() ?? [])].map(userOf);
  }

  /**
   * Every check the cache does not answer runs exactly one scrypt verification: against the user's
   * hash, or against the decoy for unknown users and plaintext entries (compared in constant time on
   * top). A failure then costs the same whether the user exists and however it is stored.
   */
  private async check(name: string, credential: StoredCredential | undefined, password: string): Promise<boolean> {
    const hash = credential?.kind === 'hash' ? credential.hash : this.decoy;
    // A hash string starts with "$", so a plaintext entry's key never equals a hash entry's.
    const stored = credential?.kind === 'plaintext' ? `plaintext:${credential.password}` : hash.encoded;
    const key = this.verified.key(name, stored, password);
    if (credential && this.verified.has(key, this.clock.now())) return true;
    const hashMatches = await this.verifyShared(key, password, hash);
    if (!credential) return false;
    const matches = credential.kind === 'hash' ? hashMatches : plaintextEquals(credential.password, password);
    if (matches) this.verified.add(key, this.clock.now());
    return matches;
  }

  private verifyShared(key: string, password: string, hash: PasswordHash): Promise<boolean> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = verifyPasswordHash(password, hash).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async reloadOnce(): Promise<boolean> {
    let text: string;
    try {
      text = readRbacText(this.file);
    } catch (err) {
      // Mid-replace by a tool that deletes then writes: the next change event reloads.
      this.logger.error(`${(err as Error).message}; keeping the ${this.current?.users.size ?? 0} users loaded before`);
      return false;
    }
    const digest = sha256(text).toString('hex');
    if (digest === this.current?.digest || digest === this.rejectedDigest) return false;
    try {
      await this.apply(text);
    } catch (err) {
      if (!(err instanceof RbacFileError || err instanceof InsecureDefaultCredentialsError)) throw err;
      this.rejectedDigest = digest;
      this.logger.error(`Not reloading: ${err.message}; keeping the ${this.current?.users.size ?? 0} users loaded before`);
      return false;
    }
    this.rejectedDigest = null;
    this.logger.log(`Reloaded ${this.file}: ${this.current?.users.size} users`);
    for (const listener of [...this.reloadListeners]) {
      try {
        listener();
      } catch (err) {
        // One failing listener must not keep the others from hearing of the new rights.
        this.logger.error(`A reload listener failed: ${(err as Error).message}`);
      }
    }
    return true;
  }

  private async apply(text: string): Promise<void> {
    const { entries, defaultCredentials } = await checkRbacText(text, this.file, this.config.host);
    if (defaultCredentials.length) {
      this.logger.warn(
        `FLANSIBLE_RBAC_FILE ${this.file} still has the default credentials ${defaultCredentials.join(', ')}: ` +
          `tolerated only because FLANSIBLE_HOST=${this.config.host} is this machine; give those users new passwords ` +
          `(npm run hash-password) before listening on any other address`,
      );
    }
    for (const entry of entries) {
      if (entry.credential.kind !== 'plaintext' || this.warnedPlaintext.has(entry.user)) continue;
      this.warnedPlaintext.add(entry.user);
      this.logger.warn(
        `User "${entry.user}" in FLANSIBLE_RBAC_FILE ${this.file} has a plaintext password: ` +
          `replace it with the hash that npm run hash-password prints`,
      );
    }
    this.current = { digest: sha256(text).toString('hex'), users: new Map(entries.map((entry) => [entry.user, entry])) };
  }
}

function userOf(entry: RbacEntry): AuthenticatedUser {
  return {
    name: entry.user,
    isAdmin: entry.user === 'admin' || entry.admin === true,
    inventories: entry.inventories,
    limits: entry.limits,
  };
}
