import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parseDocument } from 'yaml';
import { environmentJsonSchema, loadEnvironment } from '@queue-lanes/config';
import { configurationReference } from './docs/configuration';
import { scratchCheckout } from './scratch-checkout';

const root = join(__dirname, '..');
const environments = readdirSync(join(root, 'environments'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length));

/** A second checkout of the working tree at `dir`. */
function checkout(dir: string): string {
  return scratchCheckout(root, dir);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('environments/', () => {
  it('has staging and production', () => {
    expect(environments).toEqual(expect.arrayContaining(['production', 'staging']));
  });

  it('schema.json is generated from the config schema (regenerate: tsx tools/generate-schema.ts)', () => {
    expect(readFileSync(join(root, 'environments', 'schema.json'), 'utf8')).toBe(environmentJsonSchema());
  });

  it('docs/configuration.md is generated from the same schema (regenerate: tsx tools/generate-schema.ts)', () => {
    expect(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')).toBe(configurationReference(environmentJsonSchema()));
  });

  it('docs/configuration.md has a row for every key of the schema', () => {
    const page = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const keys = new Set<string>();
    const walk = (node: Record<string, unknown>): void => {
      for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        keys.add(key);
        walk(child);
      }
      for (const next of [node.additionalProperties, node.items, ...((node.oneOf ?? []) as unknown[])])
        if (next && typeof next === 'object') walk(next as Record<string, unknown>);
    };
    walk(JSON.parse(environmentJsonSchema()) as Record<string, unknown>);
    expect(keys.size).toBeGreaterThan(100);
    expect([...keys].filter((key) => !page.includes(`| \`${key}\``))).toEqual([]);
  });

  it.each(environments)('%s.yaml points editors at the schema and is valid', (name) => {
    const file = join(root, 'environments', `${name}.yaml`);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schema.json');
    expect(loadEnvironment(file, `environments/${name}.yaml`).environment).toBe(name);
    // What an editor shows: the JSON Schema (with the rules it can carry) has nothing to say of the file.
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(environmentJsonSchema()));
    expect([validate(parseDocument(readFileSync(file, 'utf8')).toJS()), validate.errors ?? []]).toEqual([true, []]);
  });

  it('gives every app the same targets (nx affected -t rehearse skips an app without one)', () => {
    const targets = environments.map((name) =>
      Object.keys(JSON.parse(readFileSync(join(root, 'apps', name, 'project.json'), 'utf8')).targets).sort(),
    );
    for (const list of targets) expect(list).toEqual(targets[0]);
    expect(targets[0]).toEqual(expect.arrayContaining(['synth', 'checkov', 'validate', 'rehearse']));
  });

  it('has an app for every environment', () => {
    const apps = readdirSync(join(root, 'apps')).sort();
    expect(apps).toEqual([...environments].sort());
  });
});

describe('synth', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'queue-lanes-ws-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is byte-identical from two checkout paths', () => {
    const a = checkout(join(scratch, 'a'));
    const b = checkout(join(scratch, 'b', 'deeper', 'checkout'));
    for (const env of environments) {
      for (const dir of [a, b]) execFileSync(process.execPath, ['tools/run-app.cjs', `apps/${env}/main.ts`], { cwd: dir, stdio: 'pipe' });
      const outA = join(a, 'apps', env, 'cdktf.out');
      const outB = join(b, 'apps', env, 'cdktf.out');
      const files = filesUnder(outA);
      expect(files.length).toBeGreaterThan(4);
      expect(filesUnder(outB)).toEqual(files);
      for (const file of files) {
        const text = readFileSync(join(outA, file), 'utf8');
        expect(text).not.toContain(scratch);
        expect(text).not.toMatch(/\b20\d\d-\d\d-\d\dT\d\d:\d\d/);
        expect(readFileSync(join(outB, file), 'utf8')).toBe(text);
      }
    }
  });

  it('fails on a bad file with the problems and no stack trace', () => {
    const dir = checkout(join(scratch, 'bad'));
    const file = join(dir, 'environments', 'staging.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('maxTasks: 4', 'maxTasks: four'));
    const run = spawnSync(process.execPath, ['tools/run-app.cjs', 'apps/staging/main.ts'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^environments\/staging\.yaml:\d+:\d+ fleet\.maxTasks: expected a number, got "four"\n/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('nx affected', () => {
  const affected = (file: string) =>
    execFileSync(join(root, 'node_modules', '.bin', 'nx'), ['show', 'projects', '--affected', `--files=${file}`], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    })
      .split('\n')
      .filter(Boolean)
      .sort();

  // The workspace's tests read every environment file, so the workspace is affected by each, and
  // with it the rehearsal, which takes the workspace's engine and runner. The worker harness runs
  // staging's lanes on a real Laravel, so staging's file is its input too.
  const tooling = ['workspace', 'rehearsal'];
  it.each([
    ['staging', ['staging', 'worker-harness']],
    ['production', ['production']],
  ])('a change to environments/%s.yaml affects only that app (and what runs its lanes)', (env, projects) => {
    expect(affected(`environments/${env}.yaml`).filter((p) => !tooling.includes(p))).toEqual(projects);
  });

  it('a change to libs/config affects every environment', () => {
    expect(affected('libs/config/src/schema.ts')).toEqual(expect.arrayContaining(['config', 'staging', 'production']));
  });
});

describe('package-lock.json', () => {
  // npm install on one platform drops other platforms' optional binaries from the
  // lockfile it writes; npm ci then rejects that lockfile, and a fresh clone that
  // ran npm install would show it rewritten. Committed whole, npm ci leaves it be.
  it('lists every optional platform package its packages declare, so npm ci installs it unchanged', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { optionalDependencies?: Record<string, string> }>;
    };
    const missing = Object.entries(lock.packages).flatMap(([path, pkg]) =>
      Object.keys(pkg.optionalDependencies ?? {})
        .filter((name) => !lock.packages[`node_modules/${name}`] && !lock.packages[`${path}/node_modules/${name}`])
        .map((name) => `${path || '(root)'} → ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('is installed with npm ci, which never rewrites it', () => {
    expect(readFileSync(join(root, 'tools', 'bootstrap.sh'), 'utf8')).toMatch(/^\s+npm ci /m);
  });
});
