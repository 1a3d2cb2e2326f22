import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { ControllerConfigError } from '@queue-lanes/contract';
import {
  AWS_CLIENT_OPTIONS,
  BacklogController,
  ControllerTickError,
  createHandler,
  type ControllerHandler,
  type TickReport,
} from './controller';
import { connectRedis, type RedisClient } from './redis';
import { TEST_CREDENTIALS, TEST_REGION, desiredCounts, motoClients } from './testing/aws';
import { startCloudWatchStub } from './testing/cloudwatch-stub';
import { Harness, attemptMetric, fileHarnesses, localRedis } from './testing/harness';
import { freePort, startRedis, startRedisRelay } from './testing/servers';

/*
 * The controller end to end: Redis filled the way Laravel fills it, ECS services
 * and CloudWatch in moto, and the tick's effect read back from both.
 */

const { harness, servers, redisPort, motoEndpoint, track } = fileHarnesses();

const nowSeconds = () => Math.floor(Date.now() / 1000);
const lane = (report: TickReport, name: string) => report.lanes.find((l) => l.lane === name);

describe('a scheduled tick', () => {
  it("measures Laravel's queues, publishes once and updates only the lanes that change", async () => {
    const h = await harness([
      { name: 'image', queues: ['image', 'image-retry'], backlogPerTask: 2 },
      { name: 'bulk' },
      { name: 'sync', min: 1, max: 2, current: 1 },
    ]);
    const now = nowSeconds();
    await h.queue.push('image', 3, { createdAt: now - 120 });
    await h.queue.push('image-retry', 1, { createdAt: now - 30 });
    await h.queue.reserve('image', now);
    await h.queue.later('image', now - 5, 2); // due: a worker's pop would move them to ready
    await h.queue.later('image', now + 600); // not due yet
    await h.queue.later('bulk', now + 600, 3); // not due: no task for these

    const report = await h.controller.tick({ source: 'aws.events', 'detail-type': 'Scheduled Event' });

    expect(lane(report, 'image')).toMatchObject({
      ready: 4,
      reserved: 1,
      delayed: 3,
      delayedDue: 2,
      backlog: 7,
      current: 0,
      desired: 4, // ceil(7 / 2), clamped to max 4
      reason: 'wake-from-zero',
    });
    expect(lane(report, 'image')!.oldestReadyAgeSeconds).toBeGreaterThanOrEqual(120);
    expect(lane(report, 'image')!.oldestReadyAgeSeconds).toBeLessThan(130);
    expect(lane(report, 'bulk')).toMatchObject({ backlog: 0, delayed: 3, desired: 0, reason: 'steady' });
    expect(lane(report, 'sync')).toMatchObject({ desired: 1, reason: 'steady' });
    expect(report.changes).toEqual([{ service: 'svc-image', from: 0, to: 4 }]);

    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-image', 'svc-bulk', 'svc-sync'])).toEqual({
      'svc-image': 4,
      'svc-bulk': 0,
      'svc-sync': 1,
    });
    expect(Object.fromEntries(h.clients.sent)).toEqual({
      DescribeServicesCommand: 1,
      UpdateServiceCommand: 1,
      PutMetricDataCommand: 1,
    });

    expect(await h.metric('Ready', 'image')).toBe(4);
    expect(await h.metric('Reserved', 'image')).toBe(1);
    expect(await h.metric('Delayed', 'image')).toBe(3);
    expect(await h.metric('DelayedDue', 'image')).toBe(2);
    expect(await h.metric('Backlog', 'image')).toBe(7);
    expect(await h.metric('OldestReadyAgeSeconds', 'image')).toBeGreaterThanOrEqual(120);
    expect(await h.metric('Backlog', 'bulk')).toBe(0);
    expect(await h.metric('OldestReadyAgeSeconds', 'bulk')).toBe(0);
    expect(await h.metric('ControllerErrors')).toBe(0);
  });

  it("reports the oldest ready age as unknown when payloads carry no timestamp, and reads Horizon's pushedAt", async () => {
    const h = await harness([
      { name: 'legacy', current: 1 },
      { name: 'horizon', current: 1 },
    ]);
    await h.queue.push('legacy', 2, { legacy: true });
    await h.queue.push('horizon', 1, { pushedAt: `${nowSeconds() - 300}.123456` });

    const report = await h.controller.tick();

    expect(lane(report, 'legacy')).toMatchObject({ ready: 2, oldestReadyAgeSeconds: null });
    expect(lane(report, 'horizon')!.oldestReadyAgeSeconds).toBeGreaterThanOrEqual(300);
    expect(await h.metricNames('legacy')).toEqual([
      'Backlog',
      'Delayed',
      'DelayedDue',
      'KeysUnderOtherPrefix',
      'Ready',
      'Reserved',
      'StuckReserved',
    ]);
    expect(await h.metricNames('horizon')).toContain('OldestReadyAgeSeconds');
  });

  it('reads 30 lanes in one pipelined Redis round trip and describes their services ten at a time', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const calls = { pipeline: 0, exec: 0 };
    const counting = (client: RedisClient): RedisClient => {
      const pipeline = client.pipeline.bind(client);
      client.pipeline = ((...args: Parameters<typeof pipeline>) => {
        calls.pipeline += 1;
        const p = pipeline(...args);
        const exec = p.exec.bind(p);
        p.exec = ((...execArgs: Parameters<typeof exec>) => {
          calls.exec += 1;
          return exec(...execArgs);
        }) as typeof p.exec;
        return p;
      }) as typeof client.pipeline;
      return client;
    };
    const lanes = Array.from({ length: 30 }, (_, i) => ({ name: `lane-${i}`, queues: [`q${i}`, `q${i}-low`] }));
    const h = await harness(lanes, { redisPort: redis.port, wrapRedis: counting });
    for (let i = 0; i < 30; i += 3) await h.queue.push(`q${i}`, i + 1);

    await h.controller.tick(); // connects (and scales the lanes with jobs)
    const stats = localRedis(redis.port);
    await stats.config('RESETSTAT');
    calls.pipeline = 0;
    calls.exec = 0;
    h.clients.reset();

    const report = await h.controller.tick();

    expect(calls).toEqual({ pipeline: 1, exec: 1 });
    const commands = commandStats(await stats.info('commandstats'));
    stats.disconnect();
    // Only the pipelined reads (and this test's own CONFIG RESETSTAT): 60 queues x 9 commands.
    expect(commands).toEqual({ 'config|resetstat': 1, llen: 60, zcard: 120, zcount: 180, lindex: 60, zrange: 120 });
    expect(h.clients.sent.get('DescribeServicesCommand')).toBe(3);
    expect(h.clients.sent.get('PutMetricDataCommand')).toBe(1);
    expect(report.lanes.filter((l) => l.backlog > 0)).toHaveLength(10);
    expect(report.changes).toEqual([]);
  });

  it('scales a lane to zero only after its drain window, read back from its own metrics', async () => {
    const h = await harness([
      { name: 'fresh', current: 1, drainMinutes: 3 },
      { name: 'recent', current: 1, drainMinutes: 3 },
      { name: 'idle', current: 1, drainMinutes: 3 },
      { name: 'waiting', current: 1, drainMinutes: 3 },
      { name: 'later', current: 1, drainMinutes: 3 },
    ]);
    const now = Date.now();
    // Earlier ticks' metrics: 'recent' had a job two minutes ago; 'idle' has been empty for three.
    await seedHistory(h, 'recent', now, [0, 2, 0]);
    await seedHistory(h, 'idle', now, [0, 0, 0]);
    await seedHistory(h, 'waiting', now, [0, 0, 0]);
    await seedHistory(h, 'later', now, [0, 0, 0]);
    // 'waiting' has a job due within the look-ahead; 'later' one due in an hour, for which the look-ahead will wake it.
    await h.queue.later('waiting', nowSeconds() + 60);
    await h.queue.later('later', nowSeconds() + 3600);
    h.clients.reset();

    const report = await h.controller.tick();

    expect(lane(report, 'fresh')).toMatchObject({ desired: 1, reason: 'hold-one-no-history' });
    expect(lane(report, 'recent')).toMatchObject({ desired: 1, reason: 'hold-one-draining' });
    expect(lane(report, 'idle')).toMatchObject({ desired: 0, reason: 'drained' });
    expect(lane(report, 'waiting')).toMatchObject({ desired: 1, reason: 'steady' });
    expect(lane(report, 'later')).toMatchObject({ desired: 0, reason: 'drained' });
    expect(report.changes).toEqual([
      { service: 'svc-idle', from: 1, to: 0 },
      { service: 'svc-later', from: 1, to: 0 },
    ]);
    expect(h.clients.sent.get('GetMetricDataCommand')).toBe(1);
    expect(h.clients.sent.get('UpdateServiceCommand')).toBe(2);
  });

  it('keeps the fleet under its cap in priority order, counting reserved capacity', async () => {
    const h = await harness(
      [
        { name: 'bulk', priority: 2, backlogPerTask: 1 },
        { name: 'image', priority: 1, backlogPerTask: 1 },
      ],
      { fleetMaxTasks: 5, reservedTasks: 2 },
    );
    await h.queue.push('bulk', 10);
    await h.queue.push('image', 10);

    const report = await h.controller.tick();

    expect(lane(report, 'image')).toMatchObject({ wanted: 4, desired: 3, held: 1, reason: 'fleet-cap' });
    expect(lane(report, 'bulk')).toMatchObject({ wanted: 4, desired: 0, held: 4, reason: 'fleet-cap' });
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-image', 'svc-bulk'])).toEqual({
      'svc-image': 3,
      'svc-bulk': 0,
    });
  });
});

describe('a wake-up', () => {
  it('wakes the cold lane without scaling anything in', async () => {
    const h = await harness([{ name: 'image' }, { name: 'bulk', current: 3 }]);
    await h.queue.push('image', 1);

    const report = await h.controller.tick({ wake: ['image', 'nope'] });

    expect(report.mode).toBe('wake');
    expect(report.unknownWakeLanes).toEqual(['nope']);
    expect(lane(report, 'image')).toMatchObject({ desired: 1, reason: 'wake-from-zero' });
    expect(lane(report, 'bulk')).toMatchObject({ desired: 3, reason: 'wake-no-scale-in' });
    expect(h.clients.sent.get('GetMetricDataCommand')).toBeUndefined();

    // The schedule then takes the idle lane in as usual: at once to the one task it keeps until its history says it drained.
    const tick = await h.controller.tick();
    expect(lane(tick, 'bulk')).toMatchObject({ desired: 1, reason: 'hold-one-no-history' });
  });
});

describe('failing safe', () => {
  it('bounds every AWS call: a hung ECS endpoint fails the tick in seconds, and ControllerErrors is still published', async () => {
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const { port } = hung.address() as AddressInfo;
    try {
      const h = await harness([{ name: 'image', current: 1 }]);
      const ecs = new ECSClient({
        ...AWS_CLIENT_OPTIONS,
        endpoint: `http://127.0.0.1:${port}`,
        region: TEST_REGION,
        credentials: TEST_CREDENTIALS,
      });
      const controller = new BacklogController(h.config, {
        ...h.clients,
        ecs,
        connectRedis: async (c, p) => connectRedis(c, p),
        log: () => undefined,
      });
      const started = Date.now();
      const failure = (await controller.tick().catch((error: unknown) => error)) as ControllerTickError;
      await controller.close();
      ecs.destroy();
      expect(failure).toBeInstanceOf(ControllerTickError);
      expect(Date.now() - started).toBeLessThan(12_000);
      expect(failure.report.errors.join(' ')).toMatch(/timed? ?out|timeout/i);
      expect(await h.metric('ControllerErrors')).toBe(1);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => hung.close(resolve));
    }
  }, 20_000);

  it('sends no scale-out after a scale-in fails, so the fleet cap holds on confirmed counts, and reports nothing as changed', async () => {
    const h = await harness([{ name: 'idle', current: 2 }, { name: 'busy' }], { failCommands: ['UpdateServiceCommand'], fleetMaxTasks: 3 });
    await h.queue.push('busy', 30);

    const failure = (await h.controller.tick().catch((error: unknown) => error)) as ControllerTickError;

    expect(failure).toBeInstanceOf(ControllerTickError);
    expect(failure.report.changes).toEqual([]);
    expect(failure.report.errors).toEqual([
      'ECS UpdateService svc-idle 2 -> 0 failed: UpdateServiceCommand refused by the test',
      'ECS UpdateService svc-busy 0 -> 3 not sent: a scale-in failed, so the fleet cap no longer holds on confirmed counts',
    ]);
    // Only the scale-in was tried.
    expect(h.clients.sent.get('UpdateServiceCommand')).toBe(1);
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-idle', 'svc-busy'])).toEqual({ 'svc-idle': 2, 'svc-busy': 0 });
  });

  it('changes nothing, reports ControllerErrors and throws when Redis cannot be read', async () => {
    const closed = await freePort();
    const h = await harness(
      [
        { name: 'image', current: 2 },
        { name: 'bulk', current: 1 },
      ],
      {
        redis: { port: closed, connectTimeoutMs: 500 },
      },
    );

    const failure = await h.controller.tick().catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ControllerTickError);
    expect((failure as ControllerTickError).message).toMatch(/Redis read failed: .*ECONNREFUSED/);
    expect((failure as ControllerTickError).report.changes).toEqual([]);
    expect(h.clients.sent.get('UpdateServiceCommand')).toBeUndefined();
    expect(h.clients.sent.get('PutMetricDataCommand')).toBe(1);
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-image', 'svc-bulk'])).toEqual({
      'svc-image': 2,
      'svc-bulk': 1,
    });
    expect(await h.metric('ControllerErrors')).toBe(1);
    expect(await h.metricNames('image')).toEqual([]);
  });

  // The close of a connection reaches the client before the next tick, or only when that tick sends
  // on it: which one comes first was the machine's timing when the test stopped the server itself.
  it.each([
    ['before the tick (the client saw the close)', 'close'],
    ['while the tick reads (the pipeline goes out on the dead connection)', 'silent'],
  ] as const)('recovers when Redis comes back, its connection lost %s: the tick fails, the next reconnects', async (_, mode) => {
    const relay = await startRedisRelay(redisPort);
    servers.push(relay);
    let connection: RedisClient | undefined;
    const h = await harness([{ name: 'image' }], {
      redisPort: relay.port,
      wrapRedis: (client) => (connection = client),
    });
    await h.queue.push('image', 1);
    await h.controller.tick();
    h.writer.disconnect();
    relay.cut(mode);
    if (mode === 'close')
      await new Promise((closed) => (connection!.status === 'end' ? closed(undefined) : connection!.once('end', closed)));
    else expect(connection!.status).toBe('ready');

    await expect(h.controller.tick()).rejects.toThrow(/Redis read failed/);

    relay.restore();
    const writer = localRedis(relay.port);
    await writer.rpush(`${h.redis.keyPrefix}queues:image`, '{"createdAt":1}');
    writer.disconnect();
    const report = await h.controller.tick();
    expect(lane(report, 'image')).toMatchObject({ ready: 2, desired: 1 });
  });

  it('holds the lanes whose drain history cannot be read, scales the others, and reports the error', async () => {
    const h = await harness([{ name: 'idle', current: 1 }, { name: 'busy' }], { failCommands: ['GetMetricDataCommand'] });
    await h.queue.push('busy', 25);

    const failure = (await h.controller.tick().catch((error: unknown) => error)) as ControllerTickError;

    expect(failure.message).toMatch(/CloudWatch GetMetricData failed: GetMetricDataCommand refused/);
    expect(lane(failure.report, 'idle')).toMatchObject({ desired: 1, reason: 'hold-one-no-history' });
    expect(failure.report.changes).toEqual([{ service: 'svc-busy', from: 0, to: 3 }]);
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-idle', 'svc-busy'])).toEqual({
      'svc-idle': 1,
      'svc-busy': 3,
    });
    expect(await h.metric('ControllerErrors')).toBe(1);
    expect(await h.metric('Backlog', 'busy')).toBe(25);
  });

  it('leaves a lane with an unreadable key alone and scales the others', async () => {
    const h = await harness([{ name: 'bad', current: 2 }, { name: 'good' }]);
    await h.writer.set(h.queue.key('bad'), 'not a list'); // LLEN on it is WRONGTYPE
    await h.queue.push('good', 30);

    const failure = (await h.controller.tick().catch((error: unknown) => error)) as ControllerTickError;

    expect(failure.report.errors).toEqual([
      expect.stringMatching(/^Redis read of lane bad failed: Redis LLEN for queue "bad" failed: WRONGTYPE/),
    ]);
    expect(failure.report.lanes.map((l) => l.lane)).toEqual(['good']);
    expect(failure.report.changes).toEqual([{ service: 'svc-good', from: 0, to: 3 }]);
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-bad', 'svc-good'])).toEqual({ 'svc-bad': 2, 'svc-good': 3 });
    expect(await h.metric('ControllerErrors')).toBe(1);
  });

  it('fails the invocation when CloudWatch cannot be written', async () => {
    const h = await harness([{ name: 'image' }], { failCommands: ['PutMetricDataCommand'] });
    await expect(h.controller.tick()).rejects.toThrow(/CloudWatch PutMetricData failed/);
  });

  it('leaves a lane whose service cannot be described alone, counts its maximum against the cap, and scales the others', async () => {
    const h = await harness([{ name: 'image' }]);
    await h.queue.push('image', 50);
    const missing = new Harness({ redisPort, motoEndpoint, lanes: [{ name: 'image' }, { name: 'gone', max: 2 }], fleetMaxTasks: 3 });
    track(missing);
    // Same cluster and queues as `h`, plus a lane whose service does not exist.
    const config = { ...missing.config, cluster: h.config.cluster, redis: h.redis };
    const controller = new BacklogController(config, { ...missing.clients, log: () => undefined });

    const failure = (await controller.tick().catch((error: unknown) => error)) as ControllerTickError;
    await controller.close();

    expect(failure.message).toMatch(/svc-gone: MISSING/);
    // image wants 4; the cap of 3 less gone's maximum of 2 leaves it 1.
    expect(lane(failure.report, 'image')).toMatchObject({ wanted: 4, desired: 1, reason: 'fleet-cap' });
    expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-image'])).toEqual({ 'svc-image': 1 });
  });
});

describe('the AUTH token', () => {
  it('is read from its SSM SecureString once per cold start', async () => {
    const redis = await startRedis({ args: ['--requirepass', 's3cret-token'] });
    servers.push(redis);
    const ssm = motoClients(motoEndpoint).ssm;
    const name = `/queue-lanes/test/redis-auth-${Date.now()}`;
    await ssm.send(new PutParameterCommand({ Name: name, Value: 's3cret-token', Type: 'SecureString' }));
    ssm.destroy();
    const h = await harness([{ name: 'image' }], {
      redisPort: redis.port,
      writerPassword: 's3cret-token',
      redis: { authParameterName: name },
    });
    await h.queue.push('image', 1);

    await h.controller.tick();
    const report = await h.controller.tick();

    expect(lane(report, 'image')).toMatchObject({ ready: 1, desired: 1 });
    expect(h.clients.sent.get('GetParameterCommand')).toBe(1);
  });
});

describe('the Lambda handler', () => {
  it('validates CONTROLLER_CONFIG at cold start, listing every problem', () => {
    expect(() => createHandler({ env: { CONTROLLER_CONFIG: '{"cluster":"","lanes":[]}' } })).toThrow(ControllerConfigError);
    expect(() => createHandler({ env: {} })).toThrow('CONTROLLER_CONFIG is not set');
  });

  it('runs from its module entry with the default AWS clients (endpoint from the environment)', async () => {
    const h = await harness([{ name: 'image' }]);
    await h.queue.push('image', 12);
    const cloudwatch = await startCloudWatchStub();
    const saved = { ...process.env };
    Object.assign(process.env, {
      CONTROLLER_CONFIG: JSON.stringify(h.config),
      AWS_ENDPOINT_URL: motoEndpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
      AWS_REGION: 'eu-west-2',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    let handler: ControllerHandler | undefined;
    try {
      jest.isolateModules(() => {
        handler = (jest.requireActual('./handler') as typeof import('./handler')).handler;
      });
      jest.spyOn(console, 'log').mockImplementation(() => undefined);
      const report = await handler!({ source: 'aws.events' });
      expect(lane(report, 'image')).toMatchObject({ backlog: 12, desired: 2 });
      expect(await desiredCounts(h.check.ecs, h.config.cluster, ['svc-image'])).toEqual({ 'svc-image': 2 });
      expect(cloudwatch.calls.map((c) => c.operation)).toEqual(['PutMetricData']);
      expect(cloudwatch.calls[0].body).toMatchObject({
        Namespace: 'QueueLanesTest',
        MetricData: expect.arrayContaining([expect.objectContaining({ MetricName: 'Backlog', Value: 12 })]),
      });
    } finally {
      process.env = saved;
      await cloudwatch.close();
      await handler?.controller.close();
      jest.restoreAllMocks();
    }
  });
});

describe('a lane failing in a loop', () => {
  /** `finished` attempts in each of the last minutes, `failed` of them threw or failed, as the log filters count them. */
  async function seedAttempts(h: Harness, lane: string, finished: number, failed: number): Promise<void> {
    const now = Date.now();
    for (const [kind, value] of [
      ['FinishedJobs', finished],
      ['FailedJobs', failed],
    ] as const) {
      const metric = attemptMetric(lane, kind);
      await h.check.cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: metric.namespace,
          MetricData: [1, 2, 3].map((ago) => ({
            MetricName: metric.name,
            Value: value,
            Unit: 'Count' as const,
            Timestamp: new Date(now - ago * 60_000),
          })),
        }),
      );
    }
  }

  it('is not widened while most recent attempts fail; the others are', async () => {
    const h = await harness([
      { name: 'image', current: 1, backlogPerTask: 10, attemptMetrics: true },
      { name: 'sync', current: 1, backlogPerTask: 10, attemptMetrics: true },
    ]);
    await h.queue.push('image', 30);
    await h.queue.push('sync', 30);
    await seedAttempts(h, 'image', 10, 9);
    await seedAttempts(h, 'sync', 10, 1);
    const report = await h.controller.tick();
    expect(report.lanes.find((l) => l.lane === 'image')).toMatchObject({ backlog: 30, desired: 1, reason: 'hold-failing' });
    expect(report.lanes.find((l) => l.lane === 'sync')).toMatchObject({ backlog: 30, desired: 3, reason: 'scale-out' });
    expect(h.clients.sent.get('GetMetricDataCommand')).toBe(1);
  });

  it('reads no attempts when nothing would widen, and scales out anyway when they cannot be read', async () => {
    const quiet = await harness([{ name: 'image', current: 1, backlogPerTask: 10, attemptMetrics: true }]);
    await quiet.queue.push('image', 5);
    expect((await quiet.controller.tick()).lanes[0]).toMatchObject({ desired: 1, reason: 'steady' });
    expect(quiet.clients.sent.get('GetMetricDataCommand') ?? 0).toBe(0);

    const blind = await harness([{ name: 'image', current: 1, backlogPerTask: 10, attemptMetrics: true }], {
      failCommands: ['GetMetricDataCommand'],
    });
    await blind.queue.push('image', 30);
    await seedAttempts(blind, 'image', 10, 10);
    // The tick fails (ControllerErrors, the controller-failing alarm) after it has scaled the lane out.
    const error = (await blind.controller.tick().catch((e: unknown) => e)) as ControllerTickError;
    expect(error).toBeInstanceOf(ControllerTickError);
    expect(error.report.lanes[0]).toMatchObject({ desired: 3, reason: 'scale-out' });
    expect(error.report.changes).toEqual([expect.objectContaining({ from: 1, to: 3 })]);
    expect(error.report.errors.join(' ')).toContain('CloudWatch GetMetricData (recent attempts) failed');
  });
});

/** What earlier ticks would have published for `lane`: Backlog and Delayed `values` for 1, 2, 3... minutes ago. */
async function seedHistory(h: Harness, laneName: string, now: number, values: readonly number[]): Promise<void> {
  const Dimensions = [
    { Name: 'Environment', Value: h.config.environment },
    { Name: 'Lane', Value: laneName },
  ];
  await h.check.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: h.config.namespace,
      MetricData: values.flatMap((Value, i) =>
        ['Backlog', 'Delayed'].map((MetricName) => ({
          MetricName,
          Dimensions,
          Value,
          Unit: 'Count' as const,
          Timestamp: new Date(now - (i + 1) * 60_000),
        })),
      ),
    }),
  );
}

/** `INFO commandstats` as { command: calls }. */
function commandStats(info: string): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[match[1]] = Number(match[2]);
  delete stats.info;
  return stats;
}
