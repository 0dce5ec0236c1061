import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { normalize, verifyPasswordHash } from './password-hash';
import { parseRbacFile, RbacEntry, RbacFileError, readRbacText } from './rbac-file';

/** Credentials shipped in the sample rbac.json and the original README: anyone can guess them. */
export const DEFAULT_CREDENTIALS: readonly { user: string; password: string }[] = [
  { user: 'admin', password: 'admin' },
  { user: 'devadmin', password: 'devpassword' },
];

/** The gateway would listen beyond this machine while default credentials are in use. */
export class InsecureDefaultCredentialsError extends Error {}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/**
 * The entries still using a default credential, as "user/password". A hash of a default
 * password counts too: hashing "admin" does not make it harder to guess.
 */
export async function findDefaultCredentials(entries: readonly RbacEntry[]): Promise<string[]> {
  const found: string[] = [];
  for (const known of DEFAULT_CREDENTIALS) {
    const entry = entries.find((e) => e.user === known.user);
    if (entry && (await matches(entry, known.password))) found.push(`${known.user}/${known.password}`);
  }
  return found;
}

async function matches(entry: RbacEntry, password: string): Promise<boolean> {
  if (entry.credential.kind === 'hash') return verifyPasswordHash(password, entry.credential.hash);
  const stored = Buffer.from(normalize(entry.credential.password));
  const candidate = Buffer.from(normalize(password));
  return stored.length === candidate.length && timingSafeEqual(stored, candidate);
}

/** One line for the operator: what is wrong and how to fix it. */
export function defaultCredentialsMessage(found: readonly string[], rbacFile: string, host: string): string {
  return (
    `refusing to listen on FLANSIBLE_HOST=${host} while FLANSIBLE_RBAC_FILE ${rbacFile} still has the default credentials ` +
    `${found.join(', ')}: give those users new passwords there (make a hash with npm run hash-password) ` +
    `or listen on 127.0.0.1 only`
  );
}

/**
 * Parses rbac.json text and applies the default-credential policy for the address the gateway
 * listens on: refused beyond loopback, allowed (for the caller to warn about) on loopback.
 * Throws RbacFileError or InsecureDefaultCredentialsError with a one-line message.
 */
export async function checkRbacText(
  text: string,
  file: string,
  host: string,
): Promise<{ entries: RbacEntry[]; defaultCredentials: string[] }> {
  const entries = parseRbacFile(text, file);
  const defaultCredentials = await findDefaultCredentials(entries);
  if (defaultCredentials.length && !isLoopbackHost(host)) {
    throw new InsecureDefaultCredentialsError(defaultCredentialsMessage(defaultCredentials, file, host));
  }
  return { entries, defaultCredentials };
}

/**
 * Boot check for the gateway, before Nest starts: a missing or malformed rbac.json, or default
 * credentials on a non-loopback address, stop the process with one line and exit code 78
 * (EX_CONFIG), like an invalid configuration value.
 */
export async function checkRbacFileOrExit(config: { rbacFile: string; host: string }): Promise<void> {
  try {
    await checkRbacText(readRbacText(config.rbacFile), config.rbacFile, config.host);
  } catch (err) {
    if (err instanceof RbacFileError) process.stderr.write(`flansible: invalid configuration: ${err.message}\n`);
    else if (err instanceof InsecureDefaultCredentialsError) process.stderr.write(`flansible: ${err.message}\n`);
    else throw err;
    process.exit(78); // EX_CONFIG
  }
}
