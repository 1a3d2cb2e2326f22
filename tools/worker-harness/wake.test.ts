import { controllerName } from '@queue-lanes/config';
import { wakeLanes } from '../../libs/backlog-controller/src/controller';
import { startRedis, type RunningServer } from '../../libs/backlog-controller/src/testing/servers';
import { buildImage, checkPrerequisites, dispatchWithWakeUp, environment, secretValues } from './harness';

/*
 * The wake-up listener the product ships (libs/backlog-controller/laravel/WakeQueueLane.php),
 * installed in the harness's Laravel 8 application as docs/scaling.md says, dispatching
 * real jobs to a real Redis; its Lambda Invoke is recorded through its seam and checked
 * against what the controller's handler accepts. Laravel 8's JobQueued has no queue
 * (that arrived in 11), so each way a job names its queue is exercised.
 */

const env = environment('environments/staging.yaml');
let redis: RunningServer;
let image: ReturnType<typeof buildImage>;
let secrets: Record<string, string>;

beforeAll(async () => {
  checkPrerequisites();
  redis = await startRedis();
  image = buildImage(env);
  secrets = secretValues(env, redis.port);
});

afterAll(async () => {
  await redis?.stop();
  image?.remove();
});

const invoked = (...args: Parameters<typeof dispatchWithWakeUp>) => dispatchWithWakeUp(...args).invoked;
const lanesOf = (calls: ReturnType<typeof invoked>) => calls.map((c) => wakeLanes(JSON.parse(c.Payload)));

describe('the wake-up listener on Laravel 8', () => {
  it('invokes the controller asynchronously with a payload its handler accepts, once per lane per 10 s', () => {
    const calls = invoked(image.dir, secrets, [
      { queue: 'image', via: 'onQueue' },
      { queue: 'image', via: 'onQueue' },
      { queue: 'sync-urgent', via: 'onQueue' },
      { queue: 'sync', via: 'onQueue' },
    ]);
    expect(calls.map((c) => [c.FunctionName, c.InvocationType])).toEqual([
      [controllerName(env), 'Event'],
      [controllerName(env), 'Event'],
    ]);
    // The controller reads these lanes from the payload (libs/backlog-controller wakeLanes), and manages them.
    expect(lanesOf(calls)).toEqual([['image'], ['sync']]);
    for (const lanes of lanesOf(calls)) expect(env.lanes.map((l) => l.name)).toEqual(expect.arrayContaining(lanes ?? ['none']));
  });

  it("reads the queue from the job where the event has none: its $queue property, else the connection's default", () => {
    expect(lanesOf(invoked(image.dir, secrets, [{ queue: 'bulk', via: 'property' }]))).toEqual([['bulk']]);
    expect(lanesOf(invoked(image.dir, secrets, [{ queue: 'image', via: 'connection-default' }]))).toEqual([['image']]);
  });

  it('never fails the dispatch when the Invoke fails: the exception is reported', () => {
    const { invoked: calls, stderr } = dispatchWithWakeUp(image.dir, secrets, [{ queue: 'image', via: 'onQueue' }], { invokeFails: true });
    expect(lanesOf(calls)).toEqual([['image']]);
    expect(stderr).toContain('Lambda is unreachable');
  });

  it('leaves queues no lane consumes alone, default included', () => {
    expect(
      invoked(image.dir, secrets, [
        { queue: 'reports', via: 'onQueue' },
        { queue: 'default', via: 'connection-default' },
      ]),
    ).toEqual([]);
  });
});
