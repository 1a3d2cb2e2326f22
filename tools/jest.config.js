const preset = require('../jest.preset.js');

// tools/worker-harness is its own project (npx nx run worker-harness:test).
module.exports = {
  ...preset,
  displayName: 'workspace',
  rootDir: __dirname,
  testPathIgnorePatterns: [...preset.testPathIgnorePatterns, '<rootDir>/worker-harness/'],
};
