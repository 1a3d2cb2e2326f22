// Jest transform: a file imported as text (the PHP the workers run) becomes a module
// whose default export is its content, as esbuild's text loader makes it in the apps.
'use strict';
module.exports = {
  process(source) {
    return { code: `module.exports = { __esModule: true, default: ${JSON.stringify(source)} };` };
  },
};
