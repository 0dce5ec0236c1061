// Runs the longest test files first, so that no worker is left with a long file at the end.
// Jest does this by itself from its cache of earlier runs; a clean clone has none, and then Jest
// goes by file size, which says little here (an 8-line e2e file can run a minute of scenarios).
// So: the duration Jest cached, else the one in test/suite-durations.json (`node
// test/write-suite-durations.js <jest --json output>` refreshes it), else a guess by project.
const Sequencer = require('@jest/test-sequencer').default;
const { relative } = require('node:path');
const durations = require('./suite-durations.json');

/** Seconds a file of each project that is in neither list is taken to need: new e2e files are slow. */
const GUESS = { e2e: 60, integration: 10, unit: 2 };

class SuiteSequencer extends Sequencer {
  sort(tests) {
    const estimate = (test) => {
      const cached = this.time(test); // milliseconds, from Jest's cache
      if (cached != null) return cached / 1000;
      const listed = durations[relative(test.context.config.rootDir, test.path)];
      if (listed != null) return listed;
      return GUESS[test.context.config.displayName?.name] ?? GUESS.unit;
    };
    const seconds = new Map(tests.map((test) => [test, estimate(test)]));
    // Files that failed last time still go first, as with Jest's own sequencer.
    return [...tests].sort((a, b) => Number(this.hasFailed(b)) - Number(this.hasFailed(a)) || seconds.get(b) - seconds.get(a));
  }
}

module.exports = SuiteSequencer;
