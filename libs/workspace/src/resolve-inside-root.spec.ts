import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PathOutsideRootError, resolveInsideRoot } from './resolve-inside-root';

describe('resolveInsideRoot', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'flansible-paths-')));
  const root = join(base, 'root');
  mkdirSync(join(root, 'dir'), { recursive: true });
  writeFileSync(join(root, 'dir', 'file.yml'), '');
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret'), '');
  symlinkSync(join(base, 'outside'), join(root, 'link-out'));
  symlinkSync(join(root, 'dir'), join(root, 'link-in'));

  it('resolves names relative to the root and absolute paths inside it', () => {
    expect(resolveInsideRoot(root, 'dir/file.yml', 'x')).toEqual({ path: join(root, 'dir/file.yml'), exists: true });
    expect(resolveInsideRoot(root, join(root, 'dir'), 'x')).toEqual({ path: join(root, 'dir'), exists: true });
    expect(resolveInsideRoot(root, './dir//../dir/file.yml', 'x').path).toBe(join(root, 'dir/file.yml'));
  });

  it('follows symlinks that stay inside', () => {
    expect(resolveInsideRoot(root, 'link-in/file.yml', 'x').path).toBe(join(root, 'dir/file.yml'));
  });

  it('reports paths that do not exist yet', () => {
    expect(resolveInsideRoot(root, 'dir/missing.yml', 'x')).toEqual({ path: join(root, 'dir/missing.yml'), exists: false });
  });

  it.each(['../outside/secret', '/etc/passwd', 'link-out/secret', 'link-out/missing', 'dir/../../outside', '..'])(
    'refuses %s',
    (given) => {
      expect(() => resolveInsideRoot(root, given, 'x')).toThrow(PathOutsideRootError);
    },
  );

  it('refuses NUL bytes', () => {
    expect(() => resolveInsideRoot(root, 'dir\0/file.yml', 'x')).toThrow(PathOutsideRootError);
  });
});
