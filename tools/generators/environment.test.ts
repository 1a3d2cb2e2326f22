import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, loadEnvironment } from '@queue-lanes/config';
import { synthesizeToJson } from '@queue-lanes/stacks/testing';

const root = join(__dirname, '..', '..');

/** git with no user configuration and no inherited NX_BASE. */
const gitEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GIT_|NX_BASE$|NX_HEAD$)/.test(k))),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

/** What qa fills the blanks with. */
const QA_VALUES: Record<string, unknown> = {
  'allowedAccountIds.0': '222222222222',
  'network.vpcId': 'vpc-0a0a0a0a0a0a0a0a0',
  'network.privateSubnetIds.0': 'subnet-0a0a0a0a0a0a0a0a1',
  'network.privateSubnetIds.1': 'subnet-0a0a0a0a0a0a0a0a2',
  'network.redis.securityGroupId': 'sg-0a0a0a0a0a0a0a0a1',
  'network.aurora.securityGroupId': 'sg-0a0a0a0a0a0a0a0a2',
  'image.repository': '222222222222.dkr.ecr.eu-west-2.amazonaws.com/propertyfeed',
  'parameters.plain.APP_ENV': 'qa',
  'parameters.plain.DB_HOST': 'propertyfeed-qa.cluster-a1.eu-west-2.rds.amazonaws.com',
  'parameters.plain.REDIS_HOST': 'master.propertyfeed-qa.a1.euw2.cache.amazonaws.com',
  'parameters.plain.AWS_BUCKET': 'propertyfeed-media-qa',
  'runtime.storage.bucket': 'propertyfeed-media-qa',
};

describe('nx g @queue-lanes/generators:environment', () => {
  let scratch: string;
  const generate = (...args: string[]) =>
    spawnSync(join(root, 'node_modules', '.bin', 'nx'), ['g', '@queue-lanes/generators:environment', ...args], {
      cwd: scratch,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' },
    });
  const file = (path: string) => readFileSync(join(scratch, path), 'utf8');

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'queue-lanes-generate-'));
    for (const entry of [
      'apps',
      'libs',
      'environments',
      'tools',
      'nx.json',
      'package.json',
      'tsconfig.base.json',
      'tsconfig.json',
      '.prettierrc.json',
    ]) {
      cpSync(join(root, entry), join(scratch, entry), { recursive: true, filter: (src) => !/\/(cdktf\.out|node_modules)(\/|$)/.test(src) });
    }
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
    // A history to run the rollout guard against: main is the workspace before qa.
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '-A'],
      ['commit', '-q', '-m', 'before qa'],
    ])
      execFileSync('git', args, { cwd: scratch, env: gitEnv, stdio: 'pipe' });
    // A checkout that has a qa of its own (the README's first environment) is generated without it.
    rmSync(join(scratch, 'environments', 'qa.yaml'), { force: true });
    rmSync(join(scratch, 'apps', 'qa'), { recursive: true, force: true });
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("writes qa.yaml with every value of staging that is not qa's blanked, and the app that synthesizes it", () => {
    const run = generate('qa', '--from', 'staging');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('CREATE environments/qa.yaml');
    const text = file('environments/qa.yaml');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schema.json');
    const data = parseDocument(text).toJS();
    expect(data.environment).toBe('qa');
    // Nothing of staging's is left as a value, and what runs the lanes is copied.
    expect(JSON.stringify(data)).not.toMatch(/staging/);
    const staging = parseDocument(file('environments/staging.yaml')).toJS();
    // Staging's lanes, each at off: a new environment's first deploy starts no task.
    const atOff = Object.fromEntries(
      Object.entries(staging.lanes).map(([lane, config]) => [lane, { ...(config as object), stage: 'off' }]),
    );
    expect(data.lanes).toEqual(atOff);
    expect(Object.values(staging.lanes).map((l) => (l as { stage: string }).stage)).toContain('scaling');
    expect(text).toContain('# Every lane starts at stage off (staging: sync: scaling, image: scaling, bulk: baseline)');
    expect(data.fleet).toEqual(staging.fleet);
    for (const name of ['project.json', 'cdktf.json', 'tsconfig.json', 'jest.config.js', 'main.ts', 'main.test.ts']) {
      expect(file(`apps/qa/${name}`)).not.toMatch(/staging/);
    }
    expect(JSON.parse(file('apps/qa/project.json'))).toMatchObject({ name: 'qa', sourceRoot: 'apps/qa' });
    expect(file('apps/qa/main.ts')).toContain("runEnvironmentApp({ environment: 'qa'");
    // What the app's lint target checks.
    const formatted = spawnSync(join(root, 'node_modules', '.bin', 'prettier'), ['--check', 'apps/qa'], { cwd: scratch, encoding: 'utf8' });
    expect([formatted.status, formatted.stdout + formatted.stderr]).toEqual([0, expect.any(String)]);
  }, 60_000);

  it('leaves a file synth refuses at each blank, in one round, until every one is filled', () => {
    const path = join(scratch, 'environments', 'qa.yaml');
    let problems: string[] = [];
    try {
      loadEnvironment(path, 'environments/qa.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems.map((p) => p.path);
    }
    expect(problems.sort()).toEqual(
      Object.keys(QA_VALUES)
        .map((key) => key.replace(/\.(\d+)/g, '[$1]'))
        .sort(),
    );

    const doc = parseDocument(readFileSync(path, 'utf8'));
    for (const [key, value] of Object.entries(QA_VALUES))
      doc.setIn(
        key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
        value,
      );
    writeFileSync(path, doc.toString());
    const env = loadEnvironment(path, 'environments/qa.yaml');
    expect(env.environment).toBe('qa');
    expect(Object.keys(synthesizeToJson(env))).toEqual(['networking', 'parameters', 'workers', 'scaling']);

    // Its first pull request: the rollout guard, as CI runs it, against the commit before qa existed passes it as generated.
    const guard = spawnSync(
      process.execPath,
      ['tools/run-app.cjs', 'tools/rollout-guard/main.ts', '--environment', 'qa', '--base', 'main'],
      {
        cwd: scratch,
        encoding: 'utf8',
        env: gitEnv,
      },
    );
    expect([guard.status, guard.stdout]).toEqual([0, env.lanes.map((l) => `${l.name}: added at off\n`).join('')]);
    expect(guard.stderr).toContain('environments/qa.yaml does not exist at main: every lane is new\n');
    expect(guard.stderr).not.toContain('rollout rule');
  }, 60_000);

  it('refuses a name that exists, a source that does not, and a name that is not one, with what would be valid', () => {
    expect(generate('production', '--from', 'staging').stderr).toContain('environment production already exists');
    expect(generate('perf', '--from', 'stagin').stderr).toContain('--from stagin: no environments/stagin.yaml; environments here: ');
    expect(generate('QA_1', '--from', 'staging').stderr).toContain('"QA_1" is not an environment name');
    expect(existsSync(join(scratch, 'apps', 'perf'))).toBe(false);
  }, 60_000);
});
