module.exports = { ...require('../../jest.preset.js'), displayName: 'iam-policy', rootDir: __dirname };
