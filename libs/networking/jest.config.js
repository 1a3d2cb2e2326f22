module.exports = { ...require('../../jest.preset.js'), displayName: 'networking', rootDir: __dirname };
