import { createServer, type Server, type Socket } from 'node:net';
import { controllerName } from '@queue-lanes/config';
import { wakeLanes } from '../../libs/backlog-controller/src/controller';
import { startRedis, type RunningServer } from '../../libs/backlog-controller/src/testing/servers';
import { buildImage, checkPrerequisites, dispatchWithWakeUp, environment, secretValues, type WakeInvoke, type WakeStep } from './harness';

/*
 * The wake-up listener the product ships (libs/backlog-controller/laravel/WakeQueueLane.php),
 * installed in the harness's Laravel 8 application as docs/scaling.md says, dispatching
 * real jobs to a real Redis; its Lambda Invoke is recorded through its seam and checked
 * against what the controller's handler accepts, and, against an endpoint that never
 * answers, sent over HTTP with Guzzle (the AWS SDK's HTTP client) and the listener's
 * timeouts. Laravel 8's JobQueued has no queue (that arrived in 11), so each way a job
 * names its queue is exercised, and a batch's.
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

const run = (steps: readonly WakeStep[], options?: Parameters<typeof dispatchWithWakeUp>[3]) =>
  dispatchWithWakeUp(image.dir, secrets, steps, options);
const invoked = async (...steps: WakeStep[]) => (await run(steps)).invoked;
const lanesOf = (calls: WakeInvoke[]) => calls.map((c) => wakeLanes(JSON.parse(c.Payload)));

/** A Lambda endpoint that accepts connections and never answers: what a blackholed route or a hung proxy looks like. */
async function blackhole(): Promise<{ url: string; accepted: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => sockets.length,
    close: () => new Promise((closed) => (sockets.forEach((s) => s.destroy()), server.close(() => closed()))),
  };
}

describe('the wake-up listener on Laravel 8', () => {
  it('invokes the controller asynchronously with a payload its handler accepts, once per lane', async () => {
    const calls = await invoked(
      { queue: 'image', via: 'onQueue' },
      { queue: 'image', via: 'onQueue' },
      { queue: 'sync-urgent', via: 'onQueue' },
      { queue: 'sync', via: 'onQueue' },
    );
    expect(calls.map((c) => [c.FunctionName, c.InvocationType])).toEqual([
      [controllerName(env), 'Event'],
      [controllerName(env), 'Event'],
    ]);
    // The controller reads these lanes from the payload (libs/backlog-controller wakeLanes), and manages them.
    expect(lanesOf(calls)).toEqual([['image'], ['sync']]);
    for (const lanes of lanesOf(calls)) expect(env.lanes.map((l) => l.name)).toEqual(expect.arrayContaining(lanes ?? ['none']));
  });

  it("reads the queue from the job where the event has none: its $queue property, else the connection's default", async () => {
    expect(lanesOf(await invoked({ queue: 'bulk', via: 'property' }))).toEqual([['bulk']]);
    expect(lanesOf(await invoked({ queue: 'image', via: 'connection-default' }))).toEqual([['image']]);
  });

  it("wakes a batch's lane: Bus::batch()->onQueue() on 8 to 10 sets the queue on no job, only on the batch", async () => {
    // laravel/framework 8.x and 10.x src/Illuminate/Bus/Batch.php add(): bulk($jobs, '', $this->options['queue']), and
    // JobQueued (8.x src/Illuminate/Queue/Events/JobQueued.php) names no queue; from 11.x JobQueued carries it.
    expect(lanesOf(await invoked({ queue: 'bulk', via: 'batch' }))).toEqual([['bulk']]);
    // A batch without onQueue goes to the connection's default queue, which no lane consumes.
    expect(await invoked({ via: 'batch' })).toEqual([]);
  });

  it('never fails the dispatch when the Invoke fails: the exception is reported', async () => {
    const { invoked: calls, stderr } = await run([{ queue: 'image', via: 'onQueue' }], { invokeFails: true });
    expect(lanesOf(calls)).toEqual([['image']]);
    expect(stderr).toContain('Lambda is unreachable');
  });

  it('leaves queues no lane consumes alone, default included', async () => {
    expect(await invoked({ queue: 'reports', via: 'onQueue' }, { queue: 'default', via: 'connection-default' })).toEqual([]);
  });
});

describe('the wake-up never slows a request', () => {
  let endpoint: Awaited<ReturnType<typeof blackhole>>;
  beforeEach(async () => (endpoint = await blackhole()));
  afterEach(() => endpoint.close());

  it('in an HTTP app, sends nothing during the request and one Invoke for its lanes after the response', async () => {
    const {
      invoked: calls,
      dispatchSeconds,
      beforeResponse,
    } = await run(
      [
        { queue: 'image', via: 'onQueue' },
        { queue: 'sync', via: 'onQueue' },
      ],
      { http: true, endpoint: endpoint.url },
    );
    expect(beforeResponse).toBe(0);
    expect(lanesOf(calls)).toEqual([['image', 'sync']]);
    // The endpoint never answers, and the request did not wait for it.
    expect(Math.max(...dispatchSeconds)).toBeLessThan(0.1);
    expect(endpoint.accepted()).toBe(1);
  });

  it('in the console (a command, a worker), a dispatch to an endpoint that accepts and never answers returns within 1.5 s', async () => {
    const {
      invoked: calls,
      dispatchSeconds,
      stderr,
    } = await run(
      [
        { queue: 'image', via: 'onQueue' },
        { queue: 'sync', via: 'onQueue' },
      ],
      { endpoint: endpoint.url },
    );
    expect(lanesOf(calls)).toEqual([['image'], ['sync']]);
    expect(endpoint.accepted()).toBe(2);
    // Each dispatch waited for one call cut off by the listener's timeout (0.9 s), and no retry.
    expect(stderr.match(/ERROR: cURL error 28: Operation timed out after 9\d\d milliseconds/g)).toHaveLength(2);
    for (const seconds of dispatchSeconds) expect(seconds).toBeLessThan(1.5);
  });

  it('tries a lane at most once per 10 s across processes sharing the cache, even while the Invoke fails', async () => {
    const started = Date.now();
    const steps: WakeStep[] = [
      { queue: 'image', via: 'onQueue' },
      { queue: 'image', via: 'onQueue' },
    ];
    const first = await run(steps, { invokeFails: true, sharedCache: true });
    expect(lanesOf(first.invoked)).toEqual([['image']]);
    // Another process, within the 10 s: the failed attempt still counts.
    expect((await run(steps, { invokeFails: true, sharedCache: true })).invoked).toEqual([]);
    await new Promise((later) => setTimeout(later, started + 10_500 - Date.now()));
    expect(lanesOf((await run(steps, { invokeFails: true, sharedCache: true })).invoked)).toEqual([['image']]);
  }, 30_000);
});
