import Redis from 'ioredis';
import { startRedis, type RunningServer } from '../../libs/backlog-controller/src/testing/servers';
import { EcsAgentDouble } from './ecs-agent';
import type { HarnessTask } from './ecs-task';
import { buildImage, checkPrerequisites, dispatch, environment, jobLines, secretValues, startLaneTask, waitFor } from './harness';

/*
 * scaleInProtection on a real Laravel 8 worker, through the worker entry point: staging's
 * bulk lane with two workers per task and --timeout=90, and a feed import whose own
 * `public $timeout` passes it (Laravel runs a job to its own timeout: Worker::timeoutForJob).
 * The task must protect itself while either worker runs a job, for that job's own limit,
 * refresh the protection for a job longer than it, and release it when both are idle; a
 * scale-in (ECS waits for an unprotected task, then stops it) must leave the long job
 * running to its end.
 *
 * The long job runs LONG_JOB_SECONDS (135 by default, with `$timeout = 255`: past --timeout
 * + 30 s, where the guard that read queue:work's text counted the worker idle and released
 * the task 15 s before the job ended; QUEUE_LANES_HARNESS_LONG_JOB_SECONDS=600 runs the
 * 10-minute case).
 */

const LONG_JOB_SECONDS = Number(process.env.QUEUE_LANES_HARNESS_LONG_JOB_SECONDS ?? 135);
/** The job's own `$timeout`: above the lane's --timeout, as a feed import sets it. */
const LONG_JOB_TIMEOUT = LONG_JOB_SECONDS + 120;
/** The lane's --timeout (job.timeout). */
const LANE_TIMEOUT = 90;
/** Protection of one minute (the least ECS takes), so the long job needs it refreshed. */
const PROTECTION_MINUTES = 1;

const env = environment('environments/staging.yaml', (text) =>
  text
    .replace('retryAfter: 150', 'retryAfter: 1000')
    .replace(
      '    job: { timeout: 110, tries: 1, maxJobs: 50, memory: 512 }',
      [
        '    workers: 2',
        `    job: { timeout: ${LANE_TIMEOUT}, tries: 1, maxJobs: 50, memory: 320 }`,
        '    scaleInProtection: true',
        '    stopTimeout: 10',
      ].join('\n'),
    ),
);

let redis: RunningServer;
let client: Redis;
let image: ReturnType<typeof buildImage>;
const running: { task: HarnessTask; agent: EcsAgentDouble }[] = [];

beforeAll(async () => {
  checkPrerequisites();
  redis = await startRedis();
  client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
  image = buildImage(env);
});

afterAll(async () => {
  await Promise.all(running.map(({ task, agent }) => Promise.all([task.stop(), agent.stop()])));
  client.disconnect();
  await redis?.stop();
  image?.remove();
});

/** A bulk task with its own ECS agent; each case its own queue-free Redis state. */
async function startTask(): Promise<{ task: HarnessTask; agent: EcsAgentDouble; secrets: Record<string, string> }> {
  const agent = await EcsAgentDouble.start();
  const secrets = secretValues(env, redis.port);
  const task = await startLaneTask(env, 'bulk', {
    image: image.dir,
    secrets,
    // The protection's length, shortened so the refresh shows within the test.
    platformEnvironment: { ECS_AGENT_URI: agent.uri, QUEUE_LANES_PROTECTION_MINUTES: String(PROTECTION_MINUTES) },
  });
  running.push({ task, agent });
  return { task, agent, secrets };
}

/** ECS's scale-in of this task: it waits while the task is protected, then stops it. Resolves with when the stop began. */
async function scaleIn(task: HarnessTask, agent: EcsAgentDouble): Promise<number> {
  await waitFor('the task to be unprotected', () => !agent.protected, LONG_JOB_SECONDS + 120);
  const stoppedAt = Date.now();
  await task.stop();
  return stoppedAt;
}

it(
  `keeps a ${LONG_JOB_SECONDS} s job with $timeout ${LONG_JOB_TIMEOUT} on a --timeout=${LANE_TIMEOUT} lane protected until it ends, through a scale-in`,
  async () => {
    const { task, agent, secrets } = await startTask();
    dispatch(image.dir, secrets, [
      { queue: 'bulk', name: 'feed-import', sleep: LONG_JOB_SECONDS, timeout: LONG_JOB_TIMEOUT },
      { queue: 'bulk', name: 'short', sleep: 2 },
    ]);
    const logs = () => task.logs('worker-1') + task.logs('worker-2');
    await waitFor('both jobs to start', () => logs().includes('feed-import started') && logs().includes('short started'));
    await waitFor('the task to be protected', () => agent.protected);
    const scaleInAt = Date.now();
    let jobEndedAt = 0;
    const ended = waitFor(
      'the long job to end',
      () => logs().includes('harness-job feed-import finished') && (jobEndedAt = Date.now()) > 0,
      LONG_JOB_SECONDS + 60,
    );
    const stopping = scaleIn(task, agent);

    await waitFor('the short job to finish', () => logs().includes('short finished'));
    // The short job's worker going idle must not release the long job's protection.
    await new Promise((done) => setTimeout(done, 6000));
    expect(agent.protected).toBe(true);

    await ended;
    const stoppedAt = await stopping;
    const releasedAt = agent.calls.filter((c) => !c.enabled).at(-1)!.at;
    // Released only once the job had ended (the poll sees its last line within 0.1 s), never before.
    expect(releasedAt).toBeGreaterThanOrEqual(jobEndedAt - 1000);
    expect(releasedAt - jobEndedAt).toBeLessThan(5000);
    // The stop came only after the long job was done: a SIGTERM during it would have cut it short at stopTimeout (10 s).
    expect(stoppedAt - scaleInAt).toBeGreaterThan((LONG_JOB_SECONDS - 10) * 1000);
    expect(task.exits.filter((e) => e.container.startsWith('worker')).map((e) => [e.exitCode, e.duringStop])).toEqual([
      [0, true],
      [0, true],
    ]);
    expect(await client.zcard(`${env.redisKeyPrefix}queues:bulk:reserved`)).toBe(0);
    const long = jobLines(logs()).find((l) => l.runtimeSeconds > LANE_TIMEOUT)!;
    expect(long).toMatchObject({ lane: 'bulk', queue: 'bulk', outcome: 'finished', error: false });
    expect(long.runtimeSeconds).toBeGreaterThanOrEqual(LONG_JOB_SECONDS);

    // Enabled once, refreshed before each minute ran out, released once both were idle.
    const calls = agent.calls.map((c) => (c.enabled ? `on:${c.expiresInMinutes}` : 'off'));
    expect(calls[0]).toBe(`on:${PROTECTION_MINUTES}`);
    expect(calls.at(-1)).toBe('off');
    expect(calls.filter((c) => c === 'off')).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('on')).length).toBeGreaterThanOrEqual(Math.floor(LONG_JOB_SECONDS / 30));
    expect(logs()).toMatch(/queue-lanes task-protection: enabled for 1 minutes \(running a job: worker-[12]/);
    expect(logs()).toContain('queue-lanes task-protection: released (every worker idle)');
  },
  (LONG_JOB_SECONDS + 180) * 1000,
);

it('releases the protection of a worker killed mid-job, well within its expiry, and leaves its job to be retried', async () => {
  const { task, agent, secrets } = await startTask();
  dispatch(image.dir, secrets, [{ queue: 'bulk', name: 'doomed', sleep: 60, timeout: 45 }]);
  const logs = () => task.logs('worker-1') + task.logs('worker-2');
  await waitFor('the job to start', () => logs().includes('doomed started'));
  await waitFor('the task to be protected', () => agent.protected);
  const container = task.logs('worker-1').includes('doomed started') ? 'worker-1' : 'worker-2';
  // The worker itself (the entry point's forked child, the deepest queue:work process), as the OOM killer would pick it.
  const worker = task
    .processes(container)
    .filter((p) => p.cmdline.includes('queue:work'))
    .at(-1)!;
  const killedAt = Date.now();
  process.kill(worker.pid, 'SIGKILL');
  await waitFor('the protection to be released', () => !agent.protected, 45 + 30);
  const releasedAt = agent.calls.at(-1)!.at;
  // Its mark would have lapsed at the job's 45 s limit plus the 30 s margin; its parent cleared it at once.
  expect(releasedAt - killedAt).toBeLessThan(5000);
  expect(agent.calls.at(-1)!.enabled).toBe(false);
  expect(jobLines(logs())).toEqual([]);
  // The attempt died with the worker: the job stays reserved until retry_after hands it out again.
  expect(await client.zcard(`${env.redisKeyPrefix}queues:bulk:reserved`)).toBe(1);
  await client.flushall();
});
