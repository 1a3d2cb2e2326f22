// The controller's runtime tests run against a real redis-server and moto,
// started once for the run (src/testing/jest-global-setup.ts). No cdktf here,
// so none of the preset's cdktf matchers either.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'backlog-controller',
  rootDir: __dirname,
  setupFilesAfterEnv: [],
  globalSetup: '<rootDir>/src/testing/jest-global-setup.ts',
  globalTeardown: '<rootDir>/src/testing/jest-global-teardown.ts',
};
