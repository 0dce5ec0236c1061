import { checkRbacText, findDefaultCredentials, InsecureDefaultCredentialsError, isLoopbackHost } from './default-credentials';
import { hashPassword } from './password-hash';
import { parseRbacFile } from './rbac-file';

const FILE = '/srv/rbac.json';
const text = (...rbac: unknown[]) => JSON.stringify({ rbac });

describe('default credentials', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'flansible.example.com', '128.0.0.1', '::2'])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('finds the shipped credentials, also when hashed, and not changed ones', async () => {
    const entries = parseRbacFile(
      text(
        { user: 'admin', password: await hashPassword('admin', { ln: 10 }) },
        { user: 'devadmin', password: 'devpassword' },
        { user: 'ops', password: 'admin' },
      ),
      FILE,
    );
    expect(await findDefaultCredentials(entries)).toEqual(['admin/admin', 'devadmin/devpassword']);
    const changed = parseRbacFile(text({ user: 'admin', password: await hashPassword('long and new', { ln: 10 }) }, { user: 'devadmin', password: 'other' }), FILE);
    expect(await findDefaultCredentials(changed)).toEqual([]);
  });

  it('refuses default credentials on a non-loopback address, saying how to fix it', async () => {
    const rbac = text({ user: 'admin', password: 'admin' });
    await expect(checkRbacText(rbac, FILE, '0.0.0.0')).rejects.toThrow(InsecureDefaultCredentialsError);
    await expect(checkRbacText(rbac, FILE, '0.0.0.0')).rejects.toThrow(
      /FLANSIBLE_HOST=0\.0\.0\.0 .*FLANSIBLE_RBAC_FILE \/srv\/rbac\.json .*admin\/admin.*npm run hash-password/,
    );
    expect((await checkRbacText(rbac, FILE, '127.0.0.1')).defaultCredentials).toEqual(['admin/admin']);
    expect((await checkRbacText(text({ user: 'admin', password: 'n0t-the-default' }), FILE, '0.0.0.0')).defaultCredentials).toEqual([]);
  });
});
