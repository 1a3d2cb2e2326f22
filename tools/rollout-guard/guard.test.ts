import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runGuard, type GuardResult } from './guard';
import { ISOLATED_GIT_ENV } from '../git-test-env';

/*
 * Every rule is exercised against real git history: a temporary repository
 * with the base version committed and the change in the working tree.
 */

const workspace = join(__dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'rollout-guard-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** git and the guard see only this environment. */
const gitEnv = ISOLATED_GIT_ENV;

let repoCount = 0;
function repo(branch = 'main'): string {
  const dir = join(scratch, `repo-${++repoCount}`);
  mkdirSync(join(dir, 'environments'), { recursive: true });
  git(dir, 'init', '-q', '-b', branch);
  return dir;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' }).trim();
}

function commit(dir: string, message = 'change'): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

type Lanes = Record<string, Record<string, unknown>>;

function lane(queue: string, stage: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { queues: [queue], stage, tasks: { baseline: 1, min: 0, max: 2 }, ...extra };
}

/** A valid environment file; production has guardrails.oneLaneAtATime on. */
function envText(name: string, lanes: Lanes, extra: Record<string, unknown> = {}): string {
  return stringify({
    app: 'propertyfeed',
    environment: name,
    region: 'eu-west-2',
    allowedAccountIds: ['111111111111'],
    network: {
      vpcId: 'vpc-0123456789abcdef0',
      privateSubnetIds: ['subnet-0123456789abcdef0'],
      redis: { securityGroupId: 'sg-0123456789abcdef1' },
      aurora: { securityGroupId: 'sg-0123456789abcdef2' },
    },
    image: { repository: 'app' },
    fleet: { maxTasks: 8 },
    guardrails: { maxTasksBeforeOwned: 2, oneLaneAtATime: name === 'production' },
    lanes,
    // After the lanes, so the positions the tests assert stay put.
    redis: { host: 'queues.cache.internal', keyPrefix: 'propertyfeed_database_', retryAfter: 180 },
    alarms: { subscriptions: [{ protocol: 'email', endpoint: 'oncall@example.com' }] },
    ...extra,
  });
}

function write(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, 'environments', `${name}.yaml`), text);
  return text;
}

/** A repository whose main holds `base`, with `head` in the working tree. */
function change(name: string, base: Lanes | string | undefined, head: Lanes | string, baseExtra = {}, headExtra = {}) {
  const dir = repo();
  if (base !== undefined) write(dir, name, typeof base === 'string' ? base : envText(name, base, baseExtra));
  commit(dir, 'base');
  const text = write(dir, name, typeof head === 'string' ? head : envText(name, head, headExtra));
  return { dir, text };
}

function guard(dir: string, environment: string, extra: { base?: string; env?: NodeJS.ProcessEnv } = {}): GuardResult {
  return runGuard({ root: dir, environment, base: extra.base, env: { ...gitEnv, ...extra.env } });
}

function run(name: string, base: Lanes | string | undefined, head: Lanes | string): GuardResult {
  return guard(change(name, base, head).dir, name);
}

function without(lanes: Lanes, name: string): Lanes {
  return Object.fromEntries(Object.entries(lanes).filter(([n]) => n !== name));
}

const THREE: Lanes = {
  sync: lane('sync', 'baseline'),
  image: lane('image', 'baseline'),
  bulk: lane('bulk', 'off'),
};

describe('summary', () => {
  it('says "no lane changes" when nothing changed, and names the base', () => {
    const result = run('production', THREE, THREE);
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['no lane changes']);
    expect(result.messages[0]).toMatch(/^rollout guard: environments\/production\.yaml, working tree against main \([0-9a-f]{12}\)$/);
  });

  it('prints one line per changed lane: stage with its task range, then each setting', () => {
    const result = run('staging', THREE, {
      ...THREE,
      sync: lane('sync', 'scaling', { cpu: 1024, memory: 2048 }),
      image: lane('image', 'baseline', { job: { timeout: 90 } }),
      bulk: lane('bulk', 'baseline', { tasks: { baseline: 2, min: 0, max: 2 } }),
    });
    expect(result.messages).toHaveLength(1);
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual([
      'sync: baseline → scaling (0..2), cpu 512 → 1024, memory 1024 → 2048',
      'image: job.timeout 60 → 90',
      'bulk: off → baseline (2 tasks), tasks.baseline 1 → 2',
    ]);
  });

  it('summarizes added and removed lanes, and settings the schema defaults the same way as unchanged', () => {
    const result = run('staging', THREE, {
      sync: { ...THREE.sync, workers: 1, broker: 'redis' },
      image: THREE.image,
      feeds: lane('feeds', 'off'),
    });
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['feeds: added at off', 'bulk: removed']);
  });

  it('reports fleet and guardrail changes and a new priority order on their own lines', () => {
    const dir = repo();
    write(dir, 'staging', envText('staging', THREE));
    commit(dir);
    write(dir, 'staging', envText('staging', { image: THREE.image, sync: THREE.sync, bulk: THREE.bulk }, { fleet: { maxTasks: 6 } }));
    expect(guard(dir, 'staging').summary).toEqual([
      'no lane changes',
      'fleet.maxTasks: 8 → 6',
      'priority order: sync, image, bulk → image, sync, bulk',
    ]);
  });

  it('lists every change outside the lanes, which reaches every lane: redis.retryAfter, the state backend, the image', () => {
    // A long job's change: the lane's timeout, and the connection's retry_after above it (the application's own setting).
    const longJobs = { ...THREE, image: lane('image', 'baseline', { scaleInProtection: true, job: { timeout: 900 } }) };
    const result = guard(
      change(
        'production',
        THREE,
        longJobs,
        {},
        {
          redis: { host: 'queues.cache.internal', keyPrefix: 'propertyfeed_database_', retryAfter: 960 },
          state: { backend: 's3', bucket: 'acme-terraform-state', region: 'eu-west-2', kmsKeyId: 'alias/terraform-state' },
          image: { repository: 'app', tag: '2026.12.1' },
        },
      ).dir,
      'production',
    );
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual([
      'image: job.timeout 60 → 900, scaleInProtection false → true',
      'state.backend: local → s3',
      'state.bucket: unset → acme-terraform-state',
      'state.region: unset → eu-west-2',
      'state.kmsKeyId: unset → alias/terraform-state',
      'state.keyPrefix: unset → propertyfeed/production',
      'image.tag: latest → 2026.12.1',
      'redis.retryAfter: 180 → 960',
      'state.directory: . → unset',
    ]);
  });

  it('reports redis settings changed with no lane change, retryAfter turned off (null) included', () => {
    const redis = { host: 'queues.cache.internal', keyPrefix: 'p_', retryAfter: null };
    const result = guard(change('staging', THREE, THREE, {}, { redis }).dir, 'staging');
    expect([result.exitCode, result.summary]).toEqual([
      0,
      ['no lane changes', 'redis.keyPrefix: propertyfeed_database_ → p_', 'redis.retryAfter: 180 → null'],
    ]);
  });
});

describe('rule one-step-forward', () => {
  it('lets a stage move forward one step', () => {
    const result = run('production', THREE, { ...THREE, image: lane('image', 'scaling') });
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['image: baseline → scaling (0..2)']);
  });

  it('fails a stage that skips one, at the line and column of the stage', () => {
    const { dir, text } = change('production', THREE, { ...THREE, image: lane('image', 'owned') });
    const result = guard(dir, 'production');
    expect(result.exitCode).toBe(1);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('stage: owned')) + 1;
    const column = lines[line - 1].indexOf('owned') + 1;
    expect(result.messages).toEqual([
      expect.stringMatching(/^rollout guard: /),
      `environments/production.yaml:${line}:${column} lanes.image.stage: baseline → owned moves forward 2 stages at once; a stage moves forward one step per change (off → baseline → scaling → owned; rollback may jump back any distance), so set "scaling" first [one-step-forward]`,
      'production: 1 rollout rule broken; see "Rollout guard" in docs/operations.md',
    ]);
    expect(result.summary).toEqual(['image: baseline → owned (0..2)']);
  });

  it('lets a rollback jump back any distance', () => {
    const owned = { ...THREE, image: lane('image', 'owned') };
    const result = run('production', owned, { ...THREE, image: lane('image', 'off') });
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['image: owned → off']);
  });

  it('counts a new lane as off: it may appear at off or baseline only', () => {
    expect(run('staging', THREE, { ...THREE, feeds: lane('feeds', 'baseline') })).toMatchObject({
      exitCode: 0,
      summary: ['feeds: added at baseline (1 task)'],
    });
    const result = run('staging', THREE, { ...THREE, feeds: lane('feeds', 'scaling') });
    expect(result.exitCode).toBe(1);
    expect(result.summary).toEqual(['feeds: added at scaling (0..2)']);
    expect(result.messages[1]).toMatch(
      /^environments\/staging\.yaml:\d+:\d+ lanes\.feeds\.stage: new lane added at "scaling"; a lane that did not exist counts as "off", so it may start at "off" or "baseline" only, then move forward one stage per change \[one-step-forward\]$/,
    );
  });

  it('points at the lane when the stage is left at its default', () => {
    const { dir, text } = change('staging', { ...THREE, bulk: { queues: ['bulk'] } }, { ...THREE, bulk: lane('bulk', 'scaling') });
    const result = guard(dir, 'staging');
    expect(result.exitCode).toBe(1);
    const line = text.split('\n').findIndex((l) => l.includes('stage: scaling')) + 1;
    expect(result.messages[1]).toMatch(new RegExp(`^environments/staging\\.yaml:${line}:\\d+ lanes\\.bulk\\.stage: off → scaling`));
  });
});

describe('rule remove-from-off', () => {
  it('lets a lane at off be removed', () => {
    expect(run('production', THREE, without(THREE, 'bulk'))).toMatchObject({ exitCode: 0, summary: ['bulk: removed'] });
  });

  it('fails removing a lane that is not off, naming the lane', () => {
    const result = run('staging', THREE, without(THREE, 'sync'));
    expect(result.exitCode).toBe(1);
    expect(result.summary).toEqual(['sync: removed (was baseline)']);
    expect(result.messages[1]).toMatch(
      /^environments\/staging\.yaml:\d+:\d+ lanes\.sync: lane "sync" is removed at stage "baseline", while its queues may still hold work; set its stage to "off" and deploy that first \(the host consumers take its queues back\), then remove the lane in a later change \[remove-from-off\]$/,
    );
  });
});

describe('rule one-lane-at-a-time', () => {
  const twoLanes: Lanes = {
    ...THREE,
    sync: lane('sync', 'scaling'),
    image: lane('image', 'baseline', { cpu: 1024, memory: 2048 }),
  };

  it('fails when two lanes change in production', () => {
    const result = run('production', THREE, twoLanes);
    expect(result.exitCode).toBe(1);
    expect(result.messages[1]).toMatch(
      /^environments\/production\.yaml:\d+:\d+ guardrails\.oneLaneAtATime: 2 lanes change in one change \(sync, image\) while guardrails\.oneLaneAtATime is on; change one lane per change \(lanes at "off" before and after do not count\) \[one-lane-at-a-time\]$/,
    );
  });

  it("counts a change to a lane's process groups as a change to that lane", () => {
    const grouped = {
      ...THREE,
      sync: {
        ...lane('sync', 'baseline'),
        queues: undefined,
        groups: [
          { name: 'urgent', queues: ['sync-urgent'] },
          { name: 'main', queues: ['sync-urgent', 'sync'] },
        ],
      },
      image: lane('image', 'baseline', { cpu: 1024, memory: 2048 }),
    };
    const result = run('production', THREE, JSON.parse(JSON.stringify(grouped)) as Lanes);
    expect(result.exitCode).toBe(1);
    expect(result.summary.find((line) => line.startsWith('sync: '))).toMatch(/groups/);
    expect(result.messages.join('\n')).toContain('2 lanes change in one change (sync, image)');
  });

  it('allows the same change where the guardrail is off (staging)', () => {
    expect(run('staging', THREE, twoLanes).exitCode).toBe(0);
  });

  it('does not count lanes that stay off, however they are edited', () => {
    const result = run('production', THREE, {
      ...THREE,
      image: lane('image', 'scaling'),
      bulk: lane('bulk', 'off', { cpu: 1024, memory: 2048 }),
      feeds: lane('feeds', 'off'),
    });
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['image: baseline → scaling (0..2)', 'bulk: cpu 512 → 1024, memory 1024 → 2048', 'feeds: added at off']);
  });

  it('still applies in the change that turns the guardrail off', () => {
    const dir = repo();
    write(dir, 'production', envText('production', THREE));
    commit(dir);
    write(dir, 'production', envText('production', twoLanes, { guardrails: { oneLaneAtATime: false } }));
    const result = guard(dir, 'production');
    expect(result.exitCode).toBe(1);
    expect(result.messages[1]).toContain('while guardrails.oneLaneAtATime is on at the base;');
    expect(result.summary).toContain('guardrails.oneLaneAtATime: true → false');
  });

  it('does not apply to a new environment file (nothing runs yet)', () => {
    const result = run('production', undefined, THREE);
    expect(result.exitCode).toBe(0);
    expect(result.messages).toContain('environments/production.yaml does not exist at main: every lane is new');
    expect(result.summary).toEqual(['sync: added at baseline (1 task)', 'image: added at baseline (1 task)', 'bulk: added at off']);
  });

  it('still holds new lanes of a new file to off or baseline', () => {
    const result = run('production', undefined, { ...THREE, image: lane('image', 'owned') });
    expect(result.exitCode).toBe(1);
    expect(result.violations.map((v) => [v.rule, v.lanes])).toEqual([['one-step-forward', ['image']]]);
  });
});

describe('invalid files', () => {
  it("fails an invalid working-tree file with the config's own messages", () => {
    const head = envText('staging', THREE).replace('maxTasks: 8', 'maxTasks: four');
    const result = run('staging', THREE, head);
    expect(result.exitCode).toBe(1);
    expect(result.summary).toEqual([]);
    expect(result.messages).toContainEqual(
      expect.stringMatching(/^environments\/staging\.yaml:\d+:\d+ fleet\.maxTasks: expected a number, got "four"$/),
    );
    expect(result.messages[result.messages.length - 1]).toBe(
      'staging: environments/staging.yaml is invalid; fix it, then the rollout rules are checked',
    );
  });

  it('reports an invalid base version but lets the fix through, still comparing stages', () => {
    const base = envText('staging', THREE).replace('maxTasks: 8', 'maxTasks: four');
    const result = run('staging', base, { ...THREE, image: lane('image', 'scaling') });
    expect(result.exitCode).toBe(0);
    expect(result.messages).toContain(
      "warning: the base version main:environments/staging.yaml is invalid; only its lanes' stages are compared:",
    );
    expect(result.messages).toContainEqual(
      expect.stringMatching(/^ {2}main:environments\/staging\.yaml:\d+:\d+ fleet\.maxTasks: expected a number/),
    );
    expect(result.summary).toEqual(['image: baseline → scaling (0..2)']);

    const jump = run('staging', base, { ...THREE, image: lane('image', 'owned') });
    expect(jump.exitCode).toBe(1);
    expect(jump.violations.map((v) => v.rule)).toEqual(['one-step-forward']);
  });

  it('does not judge a lane whose stage the invalid base spells wrong', () => {
    const base = envText('production', THREE).replace('stage: off', 'stage: of');
    const result = run('production', base, { ...THREE, image: lane('image', 'scaling'), bulk: lane('bulk', 'owned') });
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['image: baseline → scaling (0..2)', 'bulk: (unreadable) → owned (0..2)']);
    expect(run('production', base, without(THREE, 'bulk')).exitCode).toBe(0);
  });

  it('compares nothing when the base version is not even YAML', () => {
    const result = run('staging', 'lanes: [\n', THREE);
    expect(result.exitCode).toBe(0);
    expect(result.summary).toEqual(['no comparison: the base version could not be read']);
  });
});

describe('base ref', () => {
  /** main: A (image baseline) then B (image scaling); working tree = B. */
  function history() {
    const dir = repo();
    write(dir, 'staging', envText('staging', THREE));
    const a = commit(dir, 'A');
    write(dir, 'staging', envText('staging', { ...THREE, image: lane('image', 'scaling') }));
    const b = commit(dir, 'B');
    return { dir, a, b };
  }

  it('defaults to main when there is no origin/main', () => {
    const { dir, b } = history();
    const result = guard(dir, 'staging');
    expect(result.base).toEqual({ ref: 'main', sha: b, source: 'default' });
    expect(result.summary).toEqual(['no lane changes']);
  });

  it('prefers origin/main over main', () => {
    const { dir, a } = history();
    git(dir, 'update-ref', 'refs/remotes/origin/main', a);
    const result = guard(dir, 'staging');
    expect(result.base).toMatchObject({ ref: 'origin/main', sha: a });
    expect(result.summary).toEqual(['image: baseline → scaling (0..2)']);
  });

  it('takes NX_BASE, and --base over NX_BASE', () => {
    const { dir, a, b } = history();
    expect(guard(dir, 'staging', { env: { NX_BASE: a } }).base).toEqual({ ref: a, sha: a, source: 'NX_BASE' });
    expect(guard(dir, 'staging', { env: { NX_BASE: a }, base: 'HEAD' }).base).toEqual({
      ref: 'HEAD',
      sha: b,
      source: '--base',
    });
    expect(guard(dir, 'staging', { base: 'HEAD~1' }).summary).toEqual(['image: baseline → scaling (0..2)']);
  });

  it('exits 2 on an unknown ref, naming it and where it came from', () => {
    const { dir } = history();
    expect(guard(dir, 'staging', { base: 'nope' })).toMatchObject({
      exitCode: 2,
      messages: ['rollout guard: base ref "nope" is not a commit in this repository'],
    });
    expect(guard(dir, 'staging', { env: { NX_BASE: 'deadbeef' } }).messages).toEqual([
      'rollout guard: base ref "deadbeef" (from NX_BASE) is not a commit in this repository',
    ]);
  });

  it('exits 2 when neither origin/main nor main exists', () => {
    const dir = repo('trunk');
    write(dir, 'staging', envText('staging', THREE));
    commit(dir);
    expect(guard(dir, 'staging')).toMatchObject({
      exitCode: 2,
      messages: ['rollout guard: no base ref: neither origin/main nor main exists in this repository; pass --base <ref> or set NX_BASE'],
    });
  });

  it('exits 2 outside a git repository and for an unknown environment', () => {
    const dir = join(scratch, 'not-a-repo');
    mkdirSync(join(dir, 'environments'), { recursive: true });
    write(dir, 'staging', envText('staging', THREE));
    const outside = guard(dir, 'staging', { env: { GIT_CEILING_DIRECTORIES: scratch } });
    expect(outside.exitCode).toBe(2);
    expect(outside.messages[0]).toMatch(/^rollout guard: .*not-a-repo is not inside a git work tree/);

    expect(guard(dir, 'qa')).toMatchObject({
      exitCode: 2,
      messages: [expect.stringMatching(/environments\/qa\.yaml not found in .*; environments here: staging$/)],
    });
    expect(guard(dir, '../x').exitCode).toBe(2);
  });
});

describe('CLI', () => {
  const cli = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [join(workspace, 'tools', 'run-app.cjs'), join(workspace, 'tools', 'rollout-guard', 'main.ts'), ...args], {
      cwd,
      env: { ...gitEnv, ...env },
      encoding: 'utf8',
    });

  it('exits 1 on a broken rule: summary on stdout, the rule on stderr, no stack trace', () => {
    const { dir } = change('production', THREE, { ...THREE, image: lane('image', 'owned') });
    const summaryFile = join(dir, 'step-summary.md');
    const result = cli(dir, ['--environment', 'production'], { GITHUB_STEP_SUMMARY: summaryFile });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('image: baseline → owned (0..2)\n');
    expect(result.stderr).toMatch(/lanes\.image\.stage: baseline → owned moves forward 2 stages at once;.*\[one-step-forward\]\n/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    const summary = readFileSync(summaryFile, 'utf8');
    expect(summary).toMatch(/^### Rollout guard: production against `main` \([0-9a-f]{12}\)\n\n- image: baseline → owned \(0\.\.2\)\n/);
    expect(summary).toContain('- `one-step-forward`: baseline → owned moves forward 2 stages at once');
  }, 30_000);

  it('exits 0 within the policy, taking --base', () => {
    const { dir } = change('staging', THREE, { ...THREE, image: lane('image', 'scaling') });
    const result = cli(dir, ['--environment', 'staging', '--base', 'main']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('image: baseline → scaling (0..2)\n');
  }, 30_000);

  it('exits 2 on a usage or git error, with the usage and no stack trace', () => {
    const { dir } = change('staging', THREE, THREE);
    const missing = cli(dir, []);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^rollout guard: --environment is required\nusage: /);
    const unknown = cli(dir, ['--environment', 'staging', '--bsae', 'main']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^rollout guard: Unknown option '--bsae'/);
    const badRef = cli(dir, ['--environment', 'staging', '--base', 'origin/nope']);
    expect(badRef.status).toBe(2);
    expect(badRef.stderr).toBe('rollout guard: base ref "origin/nope" is not a commit in this repository\n');
    for (const r of [missing, unknown, badRef]) expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);
});
