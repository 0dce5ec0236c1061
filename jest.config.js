// Three projects, named for what they need:
// - unit: Node alone (SQLite counts: it is in-process). `npm run test:unit` runs in seconds anywhere.
// - integration: real RabbitMQ, PostgreSQL, Ansible or git, in-process (`*.integration-spec.ts` beside the code).
// - e2e: the built apps as processes (`test/**/*.e2e-spec.ts`; `npm run build` first).
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const shared = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
};

module.exports = {
  // Longest files first, also on a clean clone (no Jest cache): see test/suite-sequencer.js.
  testSequencer: require.resolve('./test/suite-sequencer.js'),
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs}/**/*.integration-spec.ts'], slowTestThreshold: 15 },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 30 },
  ],
};
