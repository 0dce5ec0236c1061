// Keeps better-sqlite3's native build in the npm cache as the prebuilt binary prebuild-install
// looks for first (~/.npm/_prebuilds, keyed by its version, Node ABI, platform and arch). This
// machine cannot download prebuilds (no access to GitHub), so every `npm ci` compiled SQLite from
// source: about 90 s of CPU. With the binary kept, the next `npm ci` unpacks it and prebuild-install
// loads it to check it; if that fails, the package's install script still compiles as before.
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, renameSync } = require('node:fs');
const { dirname, join } = require('node:path');

const dir = join(__dirname, '..', 'node_modules', 'better-sqlite3');
const binary = join('build', 'Release', 'better_sqlite3.node');
const from = (module) => require(require.resolve(module, { paths: [dir] }));

const pkg = require(join(dir, 'package.json'));
process.chdir(dir); // prebuild-install's settings are read from the package's directory
const rc = from('prebuild-install/rc')(pkg);
const util = from('prebuild-install/util');
const cached = util.cachedPrebuild(util.getDownloadUrl({ ...rc, pkg }));

if (existsSync(cached)) {
  console.log(`better-sqlite3 ${pkg.version}: prebuilt binary already kept at ${cached}`);
} else if (!existsSync(join(dir, binary))) {
  console.log(`better-sqlite3 ${pkg.version}: no native build to keep`);
} else {
  // Only a binary that loads is kept.
  execFileSync(process.execPath, ['-e', `new (require(${JSON.stringify(dir)}))(':memory:').close()`], { stdio: 'inherit' });
  mkdirSync(dirname(cached), { recursive: true });
  const partial = `${cached}.${process.pid}.tmp`;
  execFileSync('tar', ['-czf', partial, '-C', dir, binary]);
  renameSync(partial, cached);
  console.log(`better-sqlite3 ${pkg.version}: native build kept at ${cached} for the next npm ci`);
}
