import { hashPassword, SCRYPT_DEFAULTS } from '@flansible/auth';

/**
 * npm run -s hash-password: reads a password from standard input and prints the scrypt hash to
 * put in rbac.json's "password" field. On a terminal it asks twice without echo; piped, it takes
 * the input's one line (`printf %s "$PW" | npm run -s hash-password`). Only the hash goes to
 * stdout, so `$(npm run -s hash-password)` captures it. Works from the build: node dist/apps/gateway/src/cli/hash-password.js
 */
const USAGE = `usage: npm run -s hash-password [-- --ln N]
Reads a password from standard input (asked twice, without echo, on a terminal) and prints its
scrypt hash for the "password" field of rbac.json.
  --ln N   scrypt cost as log2(N), ${SCRYPT_DEFAULTS.ln} by default (each step doubles time and memory)`;

/** Exit 1 for a bad password, 2 for bad arguments (with the usage). */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
class Interrupted extends Error {}

/** The password in piped input: one line, its line ending removed. */
export function passwordFromInput(text: string): string {
  const password = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(password)) throw new CliError('the input has more than one line; pipe in just the password');
  if (!password) throw new CliError('the password is empty');
  return password;
}

function parseArgs(argv: string[]): { ln: number; help: boolean } {
  let ln: number = SCRYPT_DEFAULTS.ln;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') help = true;
    else if (arg === '--ln' || arg.startsWith('--ln=')) {
      const value = arg === '--ln' ? argv[++i] : arg.slice('--ln='.length);
      if (!/^\d+$/.test(value ?? '') || Number(value) < 14 || Number(value) > 20) throw new CliError('--ln must be a whole number from 14 to 20', 2);
      ln = Number(value);
    } else throw new CliError(`unknown argument "${arg}"`, 2);
  }
  return { ln, help };
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      if (chunk.startsWith('\x1b')) return; // arrow keys and other escape sequences
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\x03' || (ch === '\x04' && !value)) return finish(new Interrupted()); // Ctrl-C, Ctrl-D
        if (ch === '\x7f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\x15') value = ''; // Ctrl-U
        else if (ch >= ' ') value += ch;
      }
    };
    process.stderr.write(prompt);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) return passwordFromInput(await readAll(process.stdin));
  const first = await askHidden('Password: ');
  if (!first) throw new CliError('the password is empty');
  if ((await askHidden('Repeat password: ')) !== first) throw new CliError('the passwords differ');
  return first;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { ln, help } = parseArgs(argv);
    if (help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const password = await readPassword();
    // HTTP Basic through passport-http cannot carry a colon in the password.
    if (password.includes(':')) throw new CliError('the password must not contain a colon');
    process.stdout.write(`${await hashPassword(password, { ln })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof Interrupted) return 130;
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`hash-password: ${err.message}\n${err.exitCode === 2 ? `${USAGE}\n` : ''}`);
    return err.exitCode;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
