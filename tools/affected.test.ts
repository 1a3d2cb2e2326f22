import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scratchCheckout } from './scratch-checkout';
import { ISOLATED_GIT_ENV } from './git-test-env';

/*
 * What CI runs on the pull request an operator makes most: one commit that changes
 * only environments/<env>.yaml, or only a library the stacks use. Nx selects each
 * target's tasks by that target's inputs (nx.json targetDefaults, the app's
 * namedInputs.environment), so a target that forgets the file is silently skipped:
 * the rollout guard, checkov and the rehearsal would never see the change they exist
 * for. Every target an app has is checked here, so a new one cannot miss its inputs.
 */

const root = join(__dirname, '..');
const run = promisify(execFile);

/** An app's targets that read its code only, not its environment file: a change to the file does not run them. */
const CODE_ONLY = ['lint', 'typecheck'];
/** Every target of an app, from its project.json: the workspace test checks each app has the same. */
const APP_TARGETS = Object.keys(JSON.parse(readFileSync(join(root, 'apps', 'production', 'project.json'), 'utf8')).targets).sort();
const ENVIRONMENTS = readdirSync(join(root, 'apps')).sort();

const gitEnv: NodeJS.ProcessEnv = { ...ISOLATED_GIT_ENV, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

let scratch: string;
let dir: string;
const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' }).trim();

/** Commits `edit` of one file on top of the base commit's tree; returns base..head as nx takes them. */
function commitOnly(file: string, edit: (text: string) => string): { base: string; head: string } {
  git('checkout', '-q', '--detach', 'base');
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  writeFileSync(path, edit(before));
  expect(readFileSync(path, 'utf8')).not.toBe(before);
  git('commit', '-q', '-am', `change ${file}`);
  expect(git('diff', '--name-only', 'base', 'HEAD')).toBe(file);
  return { base: git('rev-parse', 'base'), head: git('rev-parse', 'HEAD') };
}

const nx = (range: { base: string; head: string }, ...args: string[]) =>
  run(join(root, 'node_modules', '.bin', 'nx'), [...args, `--base=${range.base}`, `--head=${range.head}`], {
    cwd: dir,
    env: gitEnv,
    maxBuffer: 64 * 1024 * 1024,
  }).then(({ stdout }) => stdout);

/**
 * The projects `nx affected -t <target>` runs each target of, every target of an app
 * at once: the task graph of the run, its dependencies left out (checkov's synth), in
 * one call, since each nx call builds the project graph again (seconds).
 */
async function affectedPerTarget(range: { base: string; head: string }): Promise<Record<string, string[]>> {
  const graph = JSON.parse(await nx(range, 'affected', '-t', ...APP_TARGETS, '--exclude-task-dependencies', '--graph=stdout')) as {
    tasks: { tasks: Record<string, { target: { project: string; target: string } }> };
  };
  const out: Record<string, string[]> = Object.fromEntries(APP_TARGETS.map((t) => [t, []]));
  for (const { target } of Object.values(graph.tasks.tasks)) out[target.target].push(target.project);
  for (const projects of Object.values(out)) projects.sort();
  // What the workflow and an operator ask, one target: the same answer.
  const guard = (await nx(range, 'show', 'projects', '--affected', '-t', 'guard')).split('\n').filter(Boolean).sort();
  expect(guard).toEqual(out.guard);
  return out;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'queue-lanes-affected-'));
  dir = scratchCheckout(root, join(scratch, 'workspace'));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env: gitEnv });
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  git('tag', 'base');
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('nx affected on a pull request that changes one environment file', () => {
  it('runs every target that judges the environment, for that environment only', async () => {
    // The case: production moves a lane a stage (baseline → scaling), nothing else changes.
    const range = commitOnly('environments/production.yaml', (text) =>
      text.replace(/(  image:\n(?:    .*\n)*?    stage: )baseline/, '$1scaling'),
    );
    const affected = await affectedPerTarget(range);
    const expected = Object.fromEntries(
      APP_TARGETS.map((target) => [
        target,
        // The workspace's own tests read every environment file (the schema check, nx affected, the docs).
        CODE_ONLY.includes(target) ? [] : target === 'test' ? ['production', 'workspace'] : ['production'],
      ]),
    );
    expect(affected).toEqual(expected);
    expect(APP_TARGETS).toEqual(expect.arrayContaining(['guard', 'cost', 'checkov', 'validate', 'rehearse', 'simulate', 'runbook']));
  }, 120_000);
});

describe('nx affected on a pull request that changes one library the stacks use', () => {
  it('runs every target that synthesizes or judges the stacks, for every environment', async () => {
    const range = commitOnly('libs/worker-service/src/index.ts', (text) => `${text}\n// A change to a library the stacks use.\n`);
    const affected = await affectedPerTarget(range);
    const apps = Object.fromEntries(
      Object.entries(affected).map(([target, projects]) => [target, projects.filter((p) => ENVIRONMENTS.includes(p))]),
    );
    const expected = Object.fromEntries(
      APP_TARGETS.map((target) => [
        target,
        // lint reads the app's own files; simulate runs the simulator and the controller, not the worker service.
        ['lint', 'simulate'].includes(target) ? [] : ENVIRONMENTS,
      ]),
    );
    expect(apps).toEqual(expected);
    expect(affected.test).toEqual(expect.arrayContaining(['worker-service', 'stacks', 'workspace']));
  }, 120_000);
});
