import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controllerName, parseEnvironment, taskFamily, type EnvironmentConfig } from '@queue-lanes/config';
import { synthesizeToJson } from '@queue-lanes/stacks/testing';
import { HarnessTask, type ContainerDefinition } from './ecs-task';

/*
 * The worker harness: an environment file's lanes, synthesized, run as ECS would run
 * them (./ecs-task) against the harness's Laravel application (./laravel: Laravel 8.83
 * from Debian's php-laravel-framework, booted without composer) and a real
 * redis-server. tools/bootstrap.sh --test installs PHP, Laravel and tini.
 */

export const REPO_ROOT = join(__dirname, '..', '..');
const APP_SOURCE = join(__dirname, 'laravel');
/** The application's optional part the product ships: the wake-up listener and its config. */
const WAKE_UP_SOURCE = join(REPO_ROOT, 'libs', 'backlog-controller', 'laravel');
const LARAVEL_AUTOLOAD = '/usr/share/php/Illuminate/autoload.php';
const GUZZLE_AUTOLOAD = '/usr/share/php/GuzzleHttp/autoload.php';

/** Refuses to run without what the harness needs, naming the command that installs it. */
export function checkPrerequisites(): void {
  const missing = [
    ['php', spawnSync('php', ['-r', 'exit(extension_loaded("redis") && extension_loaded("pcntl") ? 0 : 1);']).status === 0],
    [LARAVEL_AUTOLOAD, existsSync(LARAVEL_AUTOLOAD)],
    // The wake-up cases: Guzzle over curl (the AWS SDK's HTTP client), and SQLite for Bus::batch()'s table.
    [
      'php curl and pdo_sqlite',
      spawnSync('php', ['-r', 'exit(extension_loaded("curl") && extension_loaded("pdo_sqlite") ? 0 : 1);']).status === 0,
    ],
    [GUZZLE_AUTOLOAD, existsSync(GUZZLE_AUTOLOAD)],
    ['tini', existsSync('/usr/bin/tini')],
    ['the cgroup v1 memory controller', existsSync('/sys/fs/cgroup/memory/cgroup.procs')],
  ].filter(([, ok]) => !ok);
  if (missing.length > 0) {
    throw new Error(`the worker harness needs ${missing.map(([what]) => what).join(', ')}: run \`bash tools/bootstrap.sh --test\``);
  }
}

/** An environment file as the harness runs it: the repository's own, optionally edited, synthesized. */
export function environment(file: string, edit: (text: string) => string = (t) => t): EnvironmentConfig {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return parseEnvironment(edit(text), file);
}

type WorkersStack = {
  resource: { aws_ecs_task_definition: Record<string, { family: string; container_definitions: string; volume: { name: string }[] }> };
};
/** The workers stack of each environment, synthesized once: every task of a test file starts from it. */
const synthesized = new WeakMap<EnvironmentConfig, WorkersStack>();
function workersStack(env: EnvironmentConfig): WorkersStack {
  let stack = synthesized.get(env);
  if (!stack) {
    stack = synthesizeToJson(env).workers as WorkersStack;
    synthesized.set(env, stack);
  }
  return stack;
}

/** A lane's synthesized task definition: its container definitions and volumes, from the workers stack. */
export function laneTaskDefinition(env: EnvironmentConfig, lane: string): { containers: ContainerDefinition[]; volumes: string[] } {
  const workers = workersStack(env);
  const definition = Object.values(workers.resource.aws_ecs_task_definition).find((d) => d.family === taskFamily(env, lane));
  if (!definition) throw new Error(`no task definition for lane ${lane}`);
  return { containers: JSON.parse(definition.container_definitions), volumes: definition.volume.map((v) => v.name) };
}

/**
 * The image: the harness app with the folders and caches an image build leaves, readable
 * by any user, and the application's own settings in its .env: the Redis key prefix the
 * environment file records (redis.keyPrefix), as the real application is configured.
 */
export function buildImage(env: EnvironmentConfig): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'queue-lanes-image-'));
  cpSync(APP_SOURCE, dir, { recursive: true });
  writeFileSync(
    join(dir, '.env'),
    `REDIS_PREFIX=${env.redisKeyPrefix ?? 'laravel_database_'}\nQUEUE_LANES_CONTROLLER=${controllerName(env)}\n`,
  );
  // The wake-up listener and its config, installed as docs/scaling.md tells an application to.
  mkdirSync(join(dir, 'app', 'Listeners'), { recursive: true });
  cpSync(join(WAKE_UP_SOURCE, 'WakeQueueLane.php'), join(dir, 'app', 'Listeners', 'WakeQueueLane.php'));
  cpSync(join(WAKE_UP_SOURCE, 'queue-lanes.php'), join(dir, 'config', 'queue-lanes.php'));
  for (const folder of [
    'bootstrap/cache',
    'storage/framework/cache',
    'storage/framework/sessions',
    'storage/framework/views',
    'storage/logs',
  ]) {
    mkdirSync(join(dir, folder), { recursive: true });
  }
  // As `php artisan package:discover` in an image build: bootstrap/cache/packages.php, which the init container seeds.
  execFileSync('php', ['artisan', 'list'], { cwd: dir, stdio: 'ignore' });
  chmodSync(dir, 0o755);
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Values for the environment's parameters, as Parameter Store would hold them for the harness. */
export function secretValues(env: EnvironmentConfig, redisPort: number): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(env.parameters.plain)) values[name] = String(value);
  for (const name of env.parameters.secure) values[name] = '';
  return {
    ...values,
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(redisPort),
    APP_KEY: `base64:${Buffer.alloc(32, 1).toString('base64')}`,
  };
}

export interface HarnessJob {
  readonly queue: string;
  readonly name: string;
  /** Seconds it sleeps. */
  readonly sleep?: number;
  /** MB it holds while it runs. */
  readonly allocate?: number;
  /** MB it leaks into the worker (kept until the process ends). */
  readonly keep?: number;
  readonly fail?: boolean;
  /** The job's own `$timeout`, seconds (above or below the worker's --timeout). */
  readonly timeout?: number;
  /** On its first attempt, releases itself (back to the queue after this many seconds) instead of finishing. */
  readonly release?: number;
}

/** Dispatches jobs as the application does, through its Redis queue connection. */
export function dispatch(image: string, secrets: Readonly<Record<string, string>>, jobs: readonly HarnessJob[]): void {
  execFileSync('php', ['dispatch.php', JSON.stringify(jobs)], { cwd: image, env: { PATH: process.env.PATH, ...secrets }, stdio: 'pipe' });
}

/** Starts a lane's task from its synthesized definition. */
export function startLaneTask(
  env: EnvironmentConfig,
  lane: string,
  options: { image: string; secrets: Record<string, string>; platformEnvironment?: Record<string, string> },
): Promise<HarnessTask> {
  const { containers, volumes } = laneTaskDefinition(env, lane);
  return HarnessTask.start({
    containers,
    volumes,
    image: options.image,
    secrets: options.secrets,
    ...(options.platformEnvironment ? { platformEnvironment: options.platformEnvironment } : {}),
  });
}

/** Waits until `check` holds, polling; fails with `what` after `seconds`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, seconds = 30): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}`);
}

/** One Lambda Invoke request the wake-up listener made (recorded, and sent only to a harness endpoint). */
export interface WakeInvoke {
  readonly FunctionName: string;
  readonly InvocationType: string;
  readonly Payload: string;
}

/** One step of a wake-up run: a dispatch (a job's queue named one of these ways, or a batch's), or a pause. */
export type WakeStep =
  | { readonly queue: string; readonly via: 'onQueue' | 'property' | 'connection-default' }
  | { readonly queue?: string; readonly via: 'batch' }
  | { readonly pause: number };

export interface WakeRun {
  readonly invoked: WakeInvoke[];
  /** Seconds each dispatch took, as the dispatching code waits for it. */
  readonly dispatchSeconds: number[];
  /** Invokes made before the app terminated (before the response, for an HTTP app). */
  readonly beforeResponse: number;
  readonly stderr: string;
}

/**
 * Dispatches jobs in one application process with the wake-up listener subscribed; the Invoke
 * requests it made. `endpoint` sends each Invoke there over HTTP with the listener's timeouts;
 * `http` runs the app as an HTTP one (the dispatches are its request); `sharedCache` gives it the
 * Redis cache that every process of the harness shares, as an application's processes share theirs.
 */
export async function dispatchWithWakeUp(
  image: string,
  secrets: Readonly<Record<string, string>>,
  steps: readonly WakeStep[],
  options: { readonly invokeFails?: boolean; readonly endpoint?: string; readonly http?: boolean; readonly sharedCache?: boolean } = {},
): Promise<WakeRun> {
  const env = {
    PATH: process.env.PATH,
    ...secrets,
    ...(options.invokeFails && { WAKE_INVOKE_FAILS: '1' }),
    ...(options.endpoint && { WAKE_ENDPOINT: options.endpoint }),
    ...(options.http && { APP_RUNNING_IN_CONSOLE: 'false' }),
    ...(options.sharedCache && { CACHE_DRIVER: 'redis' }),
  };
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    execFile('php', ['wake.php', JSON.stringify(steps)], { cwd: image, env }, (error, stdout, stderr) =>
      done({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
  if (run.status !== 0) throw new Error(`php wake.php exited ${run.status}:\n${run.stdout}${run.stderr}`);
  return { ...(JSON.parse(run.stdout) as Omit<WakeRun, 'stderr'>), stderr: run.stderr };
}

/** A job line the worker entry point writes when an attempt ends (libs/worker-service/src/worker.php). */
export interface JobLine {
  readonly queueLanes: 'job';
  readonly lane: string;
  readonly queue: string;
  readonly connection: string;
  readonly job: string;
  readonly outcome: 'finished' | 'released' | 'failed';
  readonly error: boolean;
  readonly runtimeSeconds: number;
  readonly peakMemoryMiB: number;
}

/** The job lines among a container's output, in order. */
export function jobLines(output: string): JobLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"queueLanes":"job"'))
    .map((line) => JSON.parse(line) as JobLine);
}
