// The whole suite in one jest process: `npx jest` from the repository root.
const { readdirSync, existsSync } = require('node:fs');

const projects = ['apps', 'libs']
  .flatMap((dir) => (existsSync(dir) ? readdirSync(dir).map((name) => `<rootDir>/${dir}/${name}`) : []))
  .filter((dir) => existsSync(dir.replace('<rootDir>', __dirname) + '/jest.config.js'));

module.exports = { projects: [...projects, '<rootDir>/tools'] };
