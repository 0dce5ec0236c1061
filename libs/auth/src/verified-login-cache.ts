import { createHmac, randomBytes } from 'node:crypto';

export interface VerifiedLoginCacheOptions {
  /** How long a successful check is remembered. */
  ttlMs: number;
  /** Most logins remembered at once; the least recently used is forgotten first. */
  maxEntries: number;
}

/**
 * Remembers, briefly, that a password matched a stored hash, so a client polling every 100 ms
 * does not pay for scrypt each time. Only successes are stored, never failures.
 *
 * The key covers the user, the stored credential string (hash with its salt) and the password
 * given, so a changed password in rbac.json or a different password given misses at once. It is
 * an HMAC under a key that lives only in this process, so the cache holds nothing an attacker
 * could test password guesses against offline.
 */
export class VerifiedLoginCache {
  private readonly secret = randomBytes(32);
  /** key → expiry (ms since epoch); Map order is least recently used first. */
  private readonly entries = new Map<string, number>();

  constructor(private readonly options: VerifiedLoginCacheOptions) {}

  key(user: string, storedCredential: string, password: string): string {
    return createHmac('sha256', this.secret).update(user).update('\0').update(storedCredential).update('\0').update(password).digest('base64');
  }

  has(key: string, now: number): boolean {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    this.entries.delete(key);
    if (expires <= now) return false;
    this.entries.set(key, expires); // most recently used
    return true;
  }

  add(key: string, now: number): void {
    if (this.options.ttlMs <= 0 || this.options.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, now + this.options.ttlMs);
    while (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
