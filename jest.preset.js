// Shared jest settings: swc for speed (type errors are the typecheck target's job)
// and the tsconfig path aliases, so tests import libs as the apps do.
const { join } = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, join(__dirname, target)]),
);

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
    '^.+\\.php$': join(__dirname, 'tools', 'jest-text-transform.cjs'),
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'php'],
  moduleNameMapper,
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/cdktf.out/'],
  setupFilesAfterEnv: [join(__dirname, 'tools', 'jest-setup.ts')],
};
