import { startRedis, type RunningServer } from '../../libs/backlog-controller/src/testing/servers';
import type { HarnessTask } from './ecs-task';
import { buildImage, checkPrerequisites, dispatch, environment, laneTaskDefinition, secretValues, startLaneTask, waitFor } from './harness';

/*
 * The restart policy after queue:work exits on --max-time: ECS starts the container again
 * in place (restartPolicy, restartAttemptPeriod 60 s), so the task and its sibling workers
 * keep running and the next job is taken by the restarted worker.
 */

const MAX_TIME = 62;
const env = environment('environments/staging.yaml', (text) =>
  text.replace('    job: { timeout: 90, memory: 512 }', `    job: { timeout: 90, memory: 512, maxTime: ${MAX_TIME} }`),
);

let redis: RunningServer;
let image: ReturnType<typeof buildImage>;
let task: HarnessTask | undefined;

beforeAll(async () => {
  checkPrerequisites();
  redis = await startRedis();
  image = buildImage(env);
});

afterAll(async () => {
  await task?.stop();
  await redis?.stop();
  image?.remove();
});

it(
  'restarts a worker in place after --max-time, and the restarted worker takes the next job',
  async () => {
    const period = laneTaskDefinition(env, 'image').containers[1].restartPolicy?.restartAttemptPeriod;
    expect(period).toBeLessThanOrEqual(MAX_TIME);
    const secrets = secretValues(env, redis.port);
    task = await startLaneTask(env, 'image', { image: image.dir, secrets });
    await waitFor('the worker to reach --max-time and exit', () => task!.exits.some((e) => e.container === 'worker-1'), MAX_TIME + 30);
    expect(task.exits.find((e) => e.container === 'worker-1')).toMatchObject({ exitCode: 0, duringStop: false, oomKills: 0 });
    await waitFor('the worker to be restarted', () => task!.isRunning('worker-1'), 10);
    expect(task.stoppedReason).toBeUndefined();
    dispatch(image.dir, secrets, [{ queue: 'image', name: 'after-restart' }]);
    await waitFor('the restarted worker to take the job', () => task!.logs('worker-1').includes('harness-job after-restart finished'));
    expect(task.healthCheck('worker-1')).toBe(0);
  },
  (MAX_TIME + 90) * 1000,
);
