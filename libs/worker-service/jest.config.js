module.exports = { ...require('../../jest.preset.js'), displayName: 'worker-service', rootDir: __dirname };
