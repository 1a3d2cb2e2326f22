// Pure TypeScript: the real controller against in-memory Redis, ECS and CloudWatch; no servers, no cdktf.
module.exports = { ...require('../../jest.preset.js'), displayName: 'simulator', rootDir: __dirname, setupFilesAfterEnv: [] };
