// Rewrites test/suite-durations.json from a `jest --json` output file (for example the
// .ci/jest-results.json that .ci/run leaves): `node test/write-suite-durations.js .ci/jest-results.json`.
// test/suite-sequencer.js starts the longest files first from it.
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const results = JSON.parse(readFileSync(process.argv[2] ?? join(root, '.ci/jest-results.json'), 'utf8'));
const seconds = results.testResults
  .map((suite) => [relative(root, suite.name), Math.round((suite.endTime - suite.startTime) / 100) / 10])
  .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
writeFileSync(join(__dirname, 'suite-durations.json'), JSON.stringify(Object.fromEntries(seconds), null, 1) + '\n');
console.log(`${seconds.length} files written to test/suite-durations.json`);
