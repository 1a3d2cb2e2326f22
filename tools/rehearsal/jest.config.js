// The deploy rehearsal's own tests: its pure parts (the copy, the override, each check,
// the report, README's route), none of which starts moto or an engine.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'rehearsal',
  rootDir: __dirname,
};
