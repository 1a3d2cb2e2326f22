import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { CONTROLLER_ENTRY } from '@queue-lanes/backlog-controller';
import { bundledSources, controllerArchive, findWorkspaceRoot, inputsHash } from './controller-archive';

const root = join(__dirname, '..', '..', '..');

describe('inputsHash', () => {
  let fake: string;
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(fake, file)), { recursive: true });
    writeFileSync(join(fake, file), text);
  };
  beforeEach(() => {
    fake = mkdtempSync(join(tmpdir(), 'scaling-inputs-'));
    write('libs/backlog-controller/src/handler.ts', 'export const handler = 1;');
    write('libs/backlog-controller/src/handler.test.ts', 'it("works", () => {});');
    write('libs/backlog-controller/src/testing/servers.ts', 'export {};');
    write('libs/backlog-controller/README.md', '# controller');
    write('libs/contract/src/metrics.ts', "export const METRIC = { ready: 'Ready' };");
    write('libs/contract/src/metrics.test.ts', 'it("names", () => {});');
    write('libs/config/src/ids.ts', 'export const NAME_PATTERN = /^a$/;');
    write('libs/config/src/cron.ts', 'export {};');
    write('libs/config/src/lane-policy.ts', 'export const LANE_POLICY_BOUNDS = { drainMinutes: [1, 1440] };');
    write('package-lock.json', '{"lockfileVersion":3}');
  });
  afterEach(() => rmSync(fake, { recursive: true, force: true }));

  it('changes with the controller sources and the installed dependencies', () => {
    const before = inputsHash(fake);
    write('libs/backlog-controller/src/handler.ts', 'export const handler = 2;');
    const source = inputsHash(fake);
    expect(source).not.toBe(before);
    // The contract the controller bundles: a renamed metric is a new controller.
    write('libs/contract/src/metrics.ts', "export const METRIC = { ready: 'Waiting' };");
    expect(inputsHash(fake)).not.toBe(source);
    // The name pattern the controller's configuration imports from libs/config.
    write('libs/config/src/ids.ts', 'export const NAME_PATTERN = /^b$/;');
    expect(inputsHash(fake)).not.toBe(source);
    write('libs/config/src/lane-policy.ts', 'export const LANE_POLICY_BOUNDS = { drainMinutes: [1, 60] };');
    expect(inputsHash(fake)).not.toBe(source);
    write('package-lock.json', '{"lockfileVersion":3,"packages":{}}');
    expect(inputsHash(fake)).not.toBe(source);
  });

  it('hashes every workspace file esbuild takes into the bundle', () => {
    // A file the controller starts to import from elsewhere in the workspace must rebuild the zip when it changes.
    const { metafile } = buildSync({
      entryPoints: [CONTROLLER_ENTRY],
      absWorkingDir: root,
      bundle: true,
      platform: 'node',
      mainFields: ['module', 'main'],
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const workspaceInputs = Object.keys(metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
    expect(workspaceInputs).toContain('libs/config/src/lane-policy.ts');
    const hashed = new Set(bundledSources(root));
    expect(workspaceInputs.filter((f) => !hashed.has(f))).toEqual([]);
  });

  it('prefers the installed tree (node_modules/.package-lock.json) to the lockfile', () => {
    const before = inputsHash(fake);
    write('node_modules/.package-lock.json', '{"installed":true}');
    const installed = inputsHash(fake);
    expect(installed).not.toBe(before);
    write('package-lock.json', '{"edited":true}');
    expect(inputsHash(fake)).toBe(installed);
  });

  it('ignores tests, test helpers and documentation', () => {
    const before = inputsHash(fake);
    write('libs/backlog-controller/src/handler.test.ts', 'it("still works", () => {});');
    write('libs/backlog-controller/src/testing/servers.ts', 'export const x = 1;');
    write('libs/backlog-controller/README.md', '# the controller');
    write('libs/contract/src/metrics.test.ts', 'it("still names", () => {});');
    expect(inputsHash(fake)).toBe(before);
  });

  it('does not depend on where the repository is checked out', () => {
    const copy = mkdtempSync(join(tmpdir(), 'scaling-inputs-elsewhere-'));
    try {
      for (const file of [
        'libs/backlog-controller/src/handler.ts',
        'libs/contract/src/metrics.ts',
        'libs/config/src/ids.ts',
        'libs/config/src/cron.ts',
        'libs/config/src/lane-policy.ts',
        'package-lock.json',
      ]) {
        mkdirSync(dirname(join(copy, file)), { recursive: true });
        writeFileSync(join(copy, file), readFileSync(join(fake, file)));
      }
      expect(inputsHash(copy)).toBe(inputsHash(fake));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('controllerArchive', () => {
  const caches: string[] = [];
  const cache = () => {
    const dir = mkdtempSync(join(tmpdir(), 'scaling-cache-'));
    caches.push(dir);
    return dir;
  };
  afterAll(() => caches.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('finds the repository from its own folder', () => {
    expect(findWorkspaceRoot()).toBe(root);
  });

  it('bundles once into the cache, then reuses the zip', () => {
    const cacheDir = cache();
    const first = controllerArchive({ cacheDir });
    expect(first.file).toBe(join(cacheDir, inputsHash(root), 'controller.zip'));
    expect(first.handler).toBe('index.handler');
    const built = statSync(first.file).mtimeMs;
    const again = controllerArchive({ cacheDir });
    expect(again).toEqual(first);
    expect(statSync(again.file).mtimeMs).toBe(built);
    // One entry, index.js, exporting the Lambda handler; Lambda's hash is of the zip's bytes.
    const zip = readFileSync(first.file);
    expect(zip.toString('utf8', 30, 38)).toBe('index.js');
    expect(zip.toString('utf8')).toMatch(/handler/);
    expect(first.bytes).toBe(zip.length);
    expect(first.sourceCodeHash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(first.assetHash).toMatch(/^[0-9a-f]{32}$/);
  }, 120_000);

  it('builds byte-identical zips every time', () => {
    const one = controllerArchive({ cacheDir: cache() });
    const two = controllerArchive({ cacheDir: cache() });
    expect(readFileSync(two.file).equals(readFileSync(one.file))).toBe(true);
    expect(two.sourceCodeHash).toBe(one.sourceCodeHash);
  }, 120_000);
});
