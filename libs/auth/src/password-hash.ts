import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes in rbac.json: scrypt (node:crypto, no native dependency) in a PHC-style string,
 *   $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
 * Salted, deliberately slow and self-describing, so the cost can be raised later without
 * invalidating existing hashes: each string carries the parameters it was made with.
 */
export interface PasswordHash {
  /** log2 of scrypt's cost N. */
  ln: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
  salt: Buffer;
  hash: Buffer;
  /** The string as written, e.g. in rbac.json. */
  encoded: string;
}

export interface HashPasswordOptions {
  ln?: number;
  r?: number;
  p?: number;
}

/** ln=15, r=8: 32 MiB and about 0.1 s per check on a small server; checks are cached after success. */
export const SCRYPT_DEFAULTS = { ln: 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Bounds keep a typo in rbac.json from asking for gigabytes of memory or minutes of CPU. */
const LIMITS = { ln: [1, 20], r: [1, 32], p: [1, 16], salt: [8, 64], hash: [16, 64] } as const;

export class PasswordHashError extends Error {}

/** Anything shaped like a PHC string (`$id$...`) is read as a hash, never as a plaintext password. */
export function looksLikePasswordHash(value: string): boolean {
  return /^\$[a-z0-9-]+\$/.test(value);
}

/** Parses and checks a `$scrypt$...` string; throws PasswordHashError with a one-line reason. */
export function parsePasswordHash(encoded: string): PasswordHash {
  const parts = encoded.split('$');
  // '', 'scrypt', 'ln=..,r=..,p=..', salt, hash
  if (parts[0] === '' && parts[1] !== 'scrypt') {
    throw new PasswordHashError(`uses "${parts[1]}"; only scrypt hashes are supported (make one with npm run hash-password)`);
  }
  if (parts.length !== 5 || parts[0] !== '') throw new PasswordHashError('is not a $scrypt$ln=..,r=..,p=..$salt$hash string');
  const params = new Map<string, string>();
  for (const pair of parts[2].split(',')) {
    const [key, value, extra] = pair.split('=');
    if (extra !== undefined || !key || !value || params.has(key)) throw new PasswordHashError(`has malformed parameters "${parts[2]}"`);
    params.set(key, value);
  }
  const number = (key: 'ln' | 'r' | 'p'): number => {
    const value = params.get(key);
    const [min, max] = LIMITS[key];
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new PasswordHashError(`needs ${key} from ${min} to ${max} (got "${value ?? ''}")`);
    }
    return Number(value);
  };
  const ln = number('ln');
  const r = number('r');
  const p = number('p');
  if (params.size !== 3) throw new PasswordHashError(`has unknown parameters in "${parts[2]}" (expected ln, r, p)`);
  const salt = base64(parts[3], 'salt', LIMITS.salt);
  const hash = base64(parts[4], 'hash', LIMITS.hash);
  return { ln, r, p, salt, hash, encoded };
}

/** Hashes a password with a fresh random salt, as the string rbac.json takes. */
export async function hashPassword(password: string, options: HashPasswordOptions = {}): Promise<string> {
  const ln = options.ln ?? SCRYPT_DEFAULTS.ln;
  const r = options.r ?? SCRYPT_DEFAULTS.r;
  const p = options.p ?? SCRYPT_DEFAULTS.p;
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(normalize(password), salt, HASH_BYTES, ln, r, p);
  const encoded = `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(hash)}`;
  parsePasswordHash(encoded); // the parameters are within the bounds the reader accepts
  return encoded;
}

/** True when `password` matches. Runs on the libuv thread pool, so the event loop stays free. */
export async function verifyPasswordHash(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await scryptAsync(normalize(password), stored.salt, stored.hash.length, stored.ln, stored.r, stored.p);
  return timingSafeEqual(candidate, stored.hash);
}

/** A hash no password matches, with the default cost: unknown users are checked against it. */
export function decoyPasswordHash(): PasswordHash {
  const salt = randomBytes(SALT_BYTES);
  const hash = randomBytes(HASH_BYTES);
  const { ln, r, p } = SCRYPT_DEFAULTS;
  return { ln, r, p, salt, hash, encoded: `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(hash)}` };
}

/**
 * The same characters typed on different systems can arrive composed or decomposed (é vs e+´);
 * comparing in NFC makes them one password. Applied to plaintext entries too.
 */
export function normalize(password: string): string {
  return password.normalize('NFC');
}

function scryptAsync(password: string, salt: Buffer, keylen: number, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  // Node refuses anything above 32 MiB unless told; allow what these parameters need, plus slack.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r + 128 * r * p + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** PHC strings use standard base64 without padding; padded input is accepted too. */
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

function base64(text: string, what: string, [min, max]: readonly [number, number]): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new PasswordHashError(`has a ${what} that is not base64`);
  const bytes = Buffer.from(text, 'base64');
  if (b64(bytes) !== text.replace(/=+$/, '')) throw new PasswordHashError(`has a ${what} that is not base64`);
  if (bytes.length < min || bytes.length > max) throw new PasswordHashError(`needs a ${what} of ${min} to ${max} bytes (got ${bytes.length})`);
  return bytes;
}
