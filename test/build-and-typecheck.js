// `npm test`'s first step: `nest build` (the e2e suites run the built apps) and `tsc --noEmit` over
// everything, specs included (Jest only transpiles them: tsconfig.json has isolatedModules, so a
// type error in a spec would otherwise fail nowhere). The two run at once; either failing fails.
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const run = (name, args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      if (code !== 0) console.error(`${name} failed (${signal ?? `exit code ${code}`})`);
      resolve(code === 0);
    });
  });

Promise.all([
  run('nest build', [require.resolve('@nestjs/cli/bin/nest.js', { paths: [root] }), 'build']),
  run('tsc --noEmit', [require.resolve('typescript/bin/tsc', { paths: [root] }), '--noEmit', '-p', 'tsconfig.json']),
]).then((ok) => process.exit(ok.every(Boolean) ? 0 : 1));
