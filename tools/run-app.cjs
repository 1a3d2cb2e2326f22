#!/usr/bin/env node
// Runs a TypeScript cdktf app (apps/<env>/main.ts) the fast way: esbuild bundles
// the app with the workspace libs, zod and yaml into one module, and node
// compiles it as if it were main.ts itself (same __dirname, same node_modules
// lookup). One bundled module loads far faster than hundreds of small files
// through a TypeScript loader. The bundle is cached under node_modules/.cache
// and rebuilt when any file that went into it changes (size or mtime).
// cdktf and constructs stay external: the apps share one copy with the provider;
// esbuild too (a native binary service, used by the scaling lib at synth time).
// Usage: node tools/run-app.cjs <file.ts>
'use strict';
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join, resolve } = require('node:path');
const vm = require('node:vm');

const root = join(__dirname, '..');
const entry = resolve(process.argv[2] || '');
const cacheDir = join(root, 'node_modules', '.cache', 'queue-lanes-apps');
const key = createHash('sha256').update(entry).digest('hex').slice(0, 16);
const bundleFile = join(cacheDir, `${key}.js`);
const inputsFile = join(cacheDir, `${key}.inputs.json`);

function fingerprint(file) {
  const s = statSync(join(root, file));
  return `${s.size}:${s.mtimeMs}`;
}

function cached() {
  try {
    const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
    for (const [file, print] of Object.entries(inputs)) if (fingerprint(file) !== print) return undefined;
    return readFileSync(bundleFile, 'utf8');
  } catch {
    return undefined;
  }
}

function build() {
  const { outputFiles, metafile } = require('esbuild').buildSync({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    tsconfig: join(root, 'tsconfig.json'),
    // esbuild: the scaling lib bundles the controller at synth time with it.
    external: ['cdktf', 'constructs', 'esbuild'],
    // The PHP the workers run (libs/worker-service) goes into the task definition as text.
    loader: { '.php': 'text' },
    logLevel: 'warning',
  });
  const code = outputFiles[0].text;
  const inputs = Object.fromEntries(Object.keys(metafile.inputs).map((f) => [f, fingerprint(f)]));
  inputs['tsconfig.json'] = fingerprint('tsconfig.json');
  inputs['tsconfig.base.json'] = fingerprint('tsconfig.base.json');
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(bundleFile, code);
  writeFileSync(inputsFile, JSON.stringify(inputs));
  rmSync(join(cacheDir, `${key}.v8`), { force: true });
  return code;
}

// The app sees itself as the script that was run: argv[1] is the entry.
process.argv.splice(1, 1);
run(cached() ?? build());

/**
 * Compiles the bundle as main.ts itself would be (same __dirname and module
 * lookup), with V8's code cache so a warm run skips parsing the bundle.
 */
function run(code) {
  const codeCacheFile = join(cacheDir, `${key}.v8`);
  let cachedData;
  try {
    cachedData = readFileSync(codeCacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(code), { filename: entry, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run, so the cache holds every function the synth compiled.
    process.once('exit', () => writeFileSync(codeCacheFile, script.createCachedData()));
  }
  const app = new Module(entry, module);
  app.filename = entry;
  app.paths = Module._nodeModulePaths(dirname(entry));
  const wrapper = script.runInThisContext();
  wrapper.call(app.exports, app.exports, Module.createRequire(entry), app, entry, dirname(entry));
}
