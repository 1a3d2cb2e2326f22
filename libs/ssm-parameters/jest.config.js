module.exports = { ...require('../../jest.preset.js'), displayName: 'ssm-parameters', rootDir: __dirname };
