import Redis from 'ioredis';
import { FAILED_JOB_PATTERN, FINISHED_JOB_PATTERN, matchesFilterPattern } from '@queue-lanes/observability';
import { startRedis, type RunningServer } from '../../libs/backlog-controller/src/testing/servers';
import { SCHEDULER_COMMAND } from '../../libs/worker-service/src/command';
import { healthCheck } from '../../libs/worker-service/src/container';
import type { HarnessTask } from './ecs-task';
import {
  buildImage,
  checkPrerequisites,
  dispatch,
  environment,
  jobLines,
  laneTaskDefinition,
  secretValues,
  startLaneTask,
  waitFor,
} from './harness';

/*
 * Staging's lanes, as synthesized, on a real Laravel 8 worker: a job runs through,
 * a stop lets the job in hand finish, the health check reads the real process table,
 * and memory ends in a graceful restart or a logged error, never the kernel's kill.
 */

const env = environment('environments/staging.yaml');
let redis: RunningServer;
let client: Redis;
let image: ReturnType<typeof buildImage>;
let secrets: Record<string, string>;
const tasks: HarnessTask[] = [];

beforeAll(async () => {
  checkPrerequisites();
  redis = await startRedis();
  client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
  image = buildImage(env);
  secrets = secretValues(env, redis.port);
});

afterEach(async () => {
  await Promise.all(tasks.splice(0).map((task) => task.stop()));
  await client.flushall();
});

afterAll(async () => {
  client.disconnect();
  await redis?.stop();
  image?.remove();
});

async function start(lane: string, edit?: (text: string) => string): Promise<HarnessTask> {
  const task = await startLaneTask(edit ? environment('environments/staging.yaml', edit) : env, lane, { image: image.dir, secrets });
  tasks.push(task);
  return task;
}

const key = (queue: string, suffix = '') => `${env.redisKeyPrefix}queues:${queue}${suffix}`;

async function drained(queue: string): Promise<boolean> {
  const [ready, reserved] = await Promise.all([client.llen(key(queue)), client.zcard(key(queue, ':reserved'))]);
  return ready === 0 && reserved === 0;
}

describe("staging's lanes on Laravel 8", () => {
  it('runs the init container first, then each worker on its queues, as the container user, from a read-only root', async () => {
    const task = await start('image');
    dispatch(image.dir, secrets, [{ queue: 'image', name: 'resize-1' }]);
    await waitFor('the image job to finish', () => task.logs('worker-1').includes('harness-job resize-1 finished'));
    await waitFor('the queue to drain', () => drained('image'));
    // The init container seeded bootstrap/cache from the image and handed it to the user.
    expect(task.exits.find((e) => e.container === 'runtime-dirs')).toMatchObject({ exitCode: 0 });
    expect(jobLines(task.logs('worker-1'))).toMatchObject([{ lane: 'image', queue: 'image', outcome: 'finished', error: false }]);
    expect(task.healthCheck('worker-1')).toBe(0);
  });

  it('runs each process group of sync on its own queue chain', async () => {
    const task = await start('sync');
    dispatch(image.dir, secrets, [
      { queue: 'sync', name: 'sync-main', sleep: 1 },
      { queue: 'sync-urgent', name: 'sync-urgent-1' },
    ]);
    await waitFor(
      'both jobs',
      () =>
        task.logs('main-1').includes('sync-main finished') && /sync-urgent-1 finished/.test(task.logs('urgent-1') + task.logs('main-1')),
    );
    expect(task.logs('urgent-1')).not.toContain('sync-main');
  });

  it('lets the job in hand finish on SIGTERM, then stops within stopTimeout', async () => {
    const task = await start('image');
    dispatch(image.dir, secrets, [{ queue: 'image', name: 'long', sleep: 4 }]);
    await waitFor('the job to start', () => task.logs('worker-1').includes('harness-job long started'));
    const started = Date.now();
    const [exit] = (await task.stop()).filter((e) => e.container === 'worker-1');
    expect(exit).toMatchObject({ exitCode: 0, oomKills: 0 });
    expect(task.logs('worker-1')).toContain('harness-job long finished');
    expect(await drained('image')).toBe(true);
    expect((Date.now() - started) / 1000).toBeLessThan(laneTaskDefinition(env, 'image').containers[1].stopTimeout!);
  });

  it("passes the health check only for the program running in the container's own process table", async () => {
    const task = await start('image');
    await waitFor('the health check to pass', () => task.healthCheck('worker-1') === 0, 15);
    // The same derived check for a program this container does not run fails (ECS counts any non-zero exit as
    // unhealthy: 1 no match, 2 when a process ended while grep read /proc): the grep reads real processes.
    expect(task.healthCheck('worker-1', healthCheck(SCHEDULER_COMMAND).command)).not.toBe(0);
    // In its loop (signal handlers installed once Laravel has booted): a job has run.
    dispatch(image.dir, secrets, [{ queue: 'image', name: 'warm' }]);
    await waitFor('the worker to take a job', () => task.logs('worker-1').includes('harness-job warm finished'));
    const [exit] = await task.stop();
    expect(exit.exitCode).toBe(0);
  });
});

describe("job figures from Laravel's queue events", () => {
  // image with two tries and no backoff, so each retry runs at once.
  const twoTries = (text: string) =>
    text.replace('    job: { timeout: 90, memory: 512 }', '    job: { timeout: 90, tries: 2, backoff: [0], memory: 512 }');
  const quiet = (text: string) =>
    twoTries(text).replace(
      '  image:\n    queues: [image]',
      '  image:\n    command: [php, artisan, queue:work, "{connection}", "--queue={queues}", "--tries={tries}", "--backoff={backoff}", --quiet]\n    queues: [image]',
    );
  const jobs = [
    { queue: 'image', name: 'ok' },
    { queue: 'image', name: 'again', release: 0 },
    { queue: 'image', name: 'broken', fail: true },
  ];

  /** Runs the jobs on one image task; its job lines once all five attempts have ended, and the worker's output. */
  async function figures(edit: (text: string) => string, platformEnvironment: Record<string, string> = {}) {
    const laneEnv = environment('environments/staging.yaml', edit);
    const task = await startLaneTask(laneEnv, 'image', { image: image.dir, secrets, platformEnvironment });
    tasks.push(task);
    dispatch(image.dir, secrets, jobs);
    await waitFor('five attempts to end', () => jobLines(task.logs('worker-1')).length === 5, 60);
    await waitFor('the queue to drain', () => drained('image'));
    return { lines: jobLines(task.logs('worker-1')), output: task.logs('worker-1') };
  }

  /** What the lane's metric filters make of the output: FinishedJobs, FailedJobs, and the outcomes. */
  function counted(output: string) {
    const all = output.split('\n');
    const lines = jobLines(output);
    return {
      finishedJobs: all.filter((l) => matchesFilterPattern(FINISHED_JOB_PATTERN, l)).length,
      failedJobs: all.filter((l) => matchesFilterPattern(FAILED_JOB_PATTERN, l)).length,
      outcomes: lines.map((l) => `${l.outcome}${l.error ? ' (error)' : ''}`).sort(),
    };
  }

  const expected = {
    finishedJobs: 5,
    failedJobs: 2,
    outcomes: ['failed (error)', 'finished', 'finished', 'released', 'released (error)'],
  };

  it('counts a finished, a released and a failed job exactly, with runtime and peak memory', async () => {
    const { lines, output } = await figures(twoTries);
    expect(counted(output)).toEqual(expected);
    for (const line of lines) {
      expect(line).toMatchObject({ lane: 'image', queue: 'image', connection: 'redis', job: 'App\\Jobs\\HarnessJob' });
      expect(line.runtimeSeconds).toBeGreaterThanOrEqual(0);
      expect(line.peakMemoryMiB).toBeGreaterThan(4);
    }
    // queue:work's own lines are still printed for people, and never counted.
    expect(output).toMatch(/^\[[^\]]+\]\[[^\]]+\] Processed: {2}App\\Jobs\\HarnessJob$/m);
  });

  it('counts the same with --quiet and app.locale fr, where queue:work prints no job line', async () => {
    const { output } = await figures(quiet, { APP_LOCALE: 'fr' });
    expect(counted(output)).toEqual(expected);
    expect(output).not.toMatch(/Process(ing|ed):|Failed:/);
  });
});

describe('memory in layers, under the container hard limit (cgroup)', () => {
  // sync's containers: 512 MiB over 2 processes, --memory 160, PHP memory_limit 216.
  it('restarts a worker gracefully after a job that leaves it over --memory', async () => {
    const task = await start('sync');
    dispatch(image.dir, secrets, [{ queue: 'sync', name: 'leaky', keep: 170 }]);
    await waitFor('the worker to stop after the job', () => task.exits.some((e) => e.container === 'main-1'), 30);
    const exit = task.exits.find((e) => e.container === 'main-1')!;
    // Laravel's Worker::memoryExceeded stops with 12 after the job; the job itself finished.
    expect(exit).toMatchObject({ exitCode: 12, oomKills: 0 });
    expect(task.logs('main-1')).toContain('harness-job leaky finished');
    expect(await drained('sync')).toBe(true);
  });

  it('stops a job that outgrows memory_limit with a logged PHP error, not a kernel kill', async () => {
    const task = await start('sync');
    dispatch(image.dir, secrets, [{ queue: 'sync', name: 'huge', allocate: 250 }]);
    await waitFor('the worker to exit', () => task.exits.some((e) => e.container === 'main-1'), 30);
    const exit = task.exits.find((e) => e.container === 'main-1')!;
    expect(exit.oomKills).toBe(0);
    expect(exit.exitCode).not.toBe(137);
    expect(task.logs('main-1')).toMatch(/Allowed memory size of \d+ bytes exhausted/);
  });
});
