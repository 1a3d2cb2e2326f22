module.exports = { ...require('../../jest.preset.js'), displayName: 'brokers', rootDir: __dirname };
