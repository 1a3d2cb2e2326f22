import Redis from 'ioredis';
import { startRedis, type RunningServer } from '../../libs/backlog-controller/src/testing/servers';
import { EcsAgentDouble } from './ecs-agent';
import type { HarnessTask } from './ecs-task';
import { buildImage, checkPrerequisites, dispatch, environment, secretValues, startLaneTask, waitFor } from './harness';

/*
 * scaleInProtection on a real Laravel 8 worker: staging's bulk lane with feed-import
 * length jobs (job.timeout past stopTimeout), two workers per task. The task must protect
 * itself while either worker runs a job, refresh the protection for a job longer than it,
 * and release it when both are idle; a scale-in (ECS waits for an unprotected task, then
 * stops it) must leave the long job running to its end.
 *
 * The long job runs LONG_JOB_SECONDS (75 by default: past one-minute protections' refresh
 * and past stopTimeout; QUEUE_LANES_HARNESS_LONG_JOB_SECONDS=600 runs the 10-minute case).
 */

const LONG_JOB_SECONDS = Number(process.env.QUEUE_LANES_HARNESS_LONG_JOB_SECONDS ?? 75);
/** Protection of one minute (the least ECS takes), so a 75 s job needs it refreshed. */
const PROTECTION_MINUTES = 1;

const env = environment('environments/staging.yaml', (text) =>
  text
    .replace('retryAfter: 150', 'retryAfter: 1000')
    .replace(
      '    job: { timeout: 110, tries: 1, maxJobs: 50, memory: 512 }',
      [
        '    workers: 2',
        '    job: { timeout: 900, tries: 1, maxJobs: 50, memory: 320 }',
        '    scaleInProtection: true',
        '    stopTimeout: 10',
      ].join('\n'),
    ),
);

let redis: RunningServer;
let client: Redis;
let agent: EcsAgentDouble;
let image: ReturnType<typeof buildImage>;
let task: HarnessTask | undefined;

beforeAll(async () => {
  checkPrerequisites();
  redis = await startRedis();
  client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
  agent = await EcsAgentDouble.start();
  image = buildImage(env);
});

afterAll(async () => {
  await task?.stop();
  client.disconnect();
  await Promise.all([redis?.stop(), agent?.stop()]);
  image?.remove();
});

/** ECS's scale-in of this task: it waits while the task is protected, then stops it. Resolves with when the stop began. */
async function scaleIn(running: HarnessTask): Promise<number> {
  await waitFor('the task to be unprotected', () => !agent.protected, LONG_JOB_SECONDS + 120);
  const stoppedAt = Date.now();
  await running.stop();
  return stoppedAt;
}

it(
  `keeps a ${LONG_JOB_SECONDS} s job running through a scale-in, protected while either worker is busy`,
  async () => {
    const secrets = secretValues(env, redis.port);
    task = await startLaneTask(env, 'bulk', {
      image: image.dir,
      secrets,
      // The guard's protection length, shortened so the refresh shows within the test.
      platformEnvironment: { ECS_AGENT_URI: agent.uri, QUEUE_LANES_PROTECTION_MINUTES: String(PROTECTION_MINUTES) },
    });
    dispatch(image.dir, secrets, [
      { queue: 'bulk', name: 'feed-import', sleep: LONG_JOB_SECONDS },
      { queue: 'bulk', name: 'short', sleep: 2 },
    ]);
    const logs = () => task!.logs('worker-1') + task!.logs('worker-2');
    await waitFor('both jobs to start', () => logs().includes('feed-import started') && logs().includes('short started'));
    await waitFor('the task to be protected', () => agent.protected);
    const scaleInAt = Date.now();
    const stopping = scaleIn(task);

    await waitFor('the short job to finish', () => logs().includes('short finished'));
    // The short job's worker going idle must not release the long job's protection.
    await new Promise((done) => setTimeout(done, 6000));
    expect(agent.protected).toBe(true);

    const stoppedAt = await stopping;
    const finishedAt = Date.now();
    expect(logs()).toContain('harness-job feed-import finished');
    // The stop came only after the long job was done: a SIGTERM during it would have cut it short at stopTimeout (10 s).
    expect(stoppedAt - scaleInAt).toBeGreaterThan((LONG_JOB_SECONDS - 10) * 1000);
    expect(task.exits.filter((e) => e.container.startsWith('worker')).map((e) => [e.exitCode, e.duringStop])).toEqual([
      [0, true],
      [0, true],
    ]);
    const prefix = env.redisKeyPrefix;
    expect(await client.zcard(`${prefix}queues:bulk:reserved`)).toBe(0);

    // Enabled once, refreshed before each minute ran out, released once both were idle.
    const calls = agent.calls.map((c) => (c.enabled ? `on:${c.expiresInMinutes}` : 'off'));
    expect(calls[0]).toBe(`on:${PROTECTION_MINUTES}`);
    expect(calls.at(-1)).toBe('off');
    expect(calls.filter((c) => c === 'off')).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('on')).length).toBeGreaterThanOrEqual(Math.floor(LONG_JOB_SECONDS / 30));
    expect(logs()).toMatch(/queue-lanes task-protection: enabled for 1 minutes \(running a job: worker-[12]/);
    expect(logs()).toContain('queue-lanes task-protection: released (every worker idle)');
    expect(finishedAt - scaleInAt).toBeLessThan((LONG_JOB_SECONDS + 30) * 1000);
  },
  (LONG_JOB_SECONDS + 180) * 1000,
);
