const preset = require('../jest.preset.js');

// tools/worker-harness and tools/rehearsal are projects of their own (npx nx run worker-harness:test, rehearsal:test).
module.exports = {
  ...preset,
  displayName: 'workspace',
  rootDir: __dirname,
  testPathIgnorePatterns: [...preset.testPathIgnorePatterns, '<rootDir>/worker-harness/', '<rootDir>/rehearsal/'],
};
