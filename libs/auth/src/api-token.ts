import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every API token starts with this, so secret scanners and people can tell one at a glance. */
export const API_TOKEN_PREFIX = 'flt_';
/** 256 random bits: far beyond guessing, so a fast hash is all the store needs (see hashApiToken). */
export const API_TOKEN_SECRET_BYTES = 32;
/** The prefix and the secret in base64url without padding (43 characters for 32 bytes). */
const API_TOKEN_FORMAT = new RegExp(`^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{${Math.ceil((API_TOKEN_SECRET_BYTES * 4) / 3)}}$`);

/** A new token: shown to its owner once, never stored. */
export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(API_TOKEN_SECRET_BYTES).toString('base64url');
}

/** Whether `text` is shaped like a token generateApiToken makes (anything else is refused unread). */
export function isApiTokenFormat(text: string): boolean {
  return API_TOKEN_FORMAT.test(text);
}

/**
 * What the store keeps of a token, and looks it up by: SHA-256, hex. A slow salted hash (scrypt,
 * as for passwords) defends guessable secrets against a stolen database; 256 random bits are not
 * guessable, so it would add nothing but its cost to every request, and its salt would make a
 * lookup by hash impossible.
 */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The stored hash against the presented token's, in constant time. The row was found by that very
 * hash, so this guards against a store that matches loosely (collation, truncation) rather than
 * against timing: what a lookup's timing could reveal is a hash, which gives no token away.
 */
export function apiTokenMatches(storedHash: string, token: string): boolean {
  const stored = Buffer.from(storedHash, 'hex');
  const presented = Buffer.from(hashApiToken(token), 'hex');
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}

/**
 * The credentials of an `Authorization: Bearer <credentials>` header (scheme in any case, RFC 7235),
 * '' when the scheme has none, or undefined when the header is absent or has another scheme.
 * Only the header: a token in the query string or the body would end up in logs and histories.
 */
export function bearerCredentials(authorization: string | undefined): string | undefined {
  const match = /^bearer(?:[ \t]+(.*))?$/is.exec(authorization ?? '');
  if (!match) return undefined;
  return (match[1] ?? '').trim();
}
