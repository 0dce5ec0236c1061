import { parsePasswordHash, verifyPasswordHash } from '@flansible/auth';
import { main, passwordFromInput } from './hash-password';

describe('hash-password', () => {
  it('takes piped input without its line ending', () => {
    expect(passwordFromInput('secret\n')).toBe('secret');
    expect(passwordFromInput('secret\r\n')).toBe('secret');
    expect(passwordFromInput('  spaced out  ')).toBe('  spaced out  ');
  });

  it.each(['', '\n', 'two\nlines\n'])('refuses the input %j', (input) => {
    expect(() => passwordFromInput(input)).toThrow();
  });

  it('refuses unknown arguments and weak costs with exit code 2', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--bogus'])).toBe(2);
      expect(await main(['--ln', '8'])).toBe(2);
      expect(String(stderr.mock.calls[1][0])).toContain('--ln must be a whole number from 14 to 20');
    } finally {
      stderr.mockRestore();
    }
  });

  it('prints a hash the gateway accepts (from piped stdin)', async () => {
    const { PassThrough } = await import('node:stream');
    const input = new PassThrough();
    const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    Object.defineProperty(process, 'stdin', { value: input, configurable: true });
    try {
      input.end('correct horse\n');
      expect(await main(['--ln', '14'])).toBe(0);
      const printed = String(stdout.mock.calls[0][0]);
      expect(printed).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$\S+\n$/);
      expect(await verifyPasswordHash('correct horse', parsePasswordHash(printed.trim()))).toBe(true);
    } finally {
      Object.defineProperty(process, 'stdin', stdin);
      stdout.mockRestore();
    }
  });
});
