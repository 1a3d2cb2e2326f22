// The worker harness: real PHP, Laravel, redis-server, tini and cgroups; its cases take
// minutes of real time (stop timeouts, restart periods, protection expiry), so the
// files run side by side and each case has its own timeout.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'worker-harness',
  rootDir: __dirname,
  testTimeout: 300_000,
  // The cases mostly wait (on jobs, timeouts, restart periods), so they run side by side.
  maxWorkers: 3,
};
