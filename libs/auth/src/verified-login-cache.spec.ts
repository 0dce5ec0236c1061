import { VerifiedLoginCache } from './verified-login-cache';

describe('VerifiedLoginCache', () => {
  it('keys on user, stored credential and password', () => {
    const cache = new VerifiedLoginCache({ ttlMs: 1_000, maxEntries: 10 });
    const key = cache.key('alice', '$scrypt$a', 'pw');
    expect(new Set([key, cache.key('alice', '$scrypt$b', 'pw'), cache.key('alice', '$scrypt$a', 'pw2'), cache.key('bob', '$scrypt$a', 'pw')]).size).toBe(4);
    // The separators keep "ab"+"c" apart from "a"+"bc".
    expect(cache.key('ab', 'c', 'pw')).not.toBe(cache.key('a', 'bc', 'pw'));
    // A digest (HMAC-SHA256, base64), never the password: a two-letter password could turn up in
    // 44 random characters by chance, a long one cannot.
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const password = 'longPassphrase42xyz';
    expect(cache.key('alice', '$scrypt$a', password)).not.toContain(password);
  });

  it('forgets entries after their time', () => {
    const cache = new VerifiedLoginCache({ ttlMs: 1_000, maxEntries: 10 });
    cache.add('k', 0);
    expect(cache.has('k', 999)).toBe(true);
    expect(cache.has('k', 1_000)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('forgets the least recently used beyond its size', () => {
    const cache = new VerifiedLoginCache({ ttlMs: 1_000, maxEntries: 2 });
    cache.add('a', 0);
    cache.add('b', 0);
    expect(cache.has('a', 1)).toBe(true); // a is now more recent than b
    cache.add('c', 2);
    expect([cache.has('a', 3), cache.has('b', 3), cache.has('c', 3)]).toEqual([true, false, true]);
  });

  it('remembers nothing when disabled', () => {
    const cache = new VerifiedLoginCache({ ttlMs: 0, maxEntries: 10 });
    cache.add('k', 0);
    expect(cache.has('k', 0)).toBe(false);
  });
});
