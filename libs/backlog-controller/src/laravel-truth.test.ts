import type { TickReport } from './controller';
import { fileHarnesses, localRedis, type Harness, type LaneSpec } from './testing/harness';
import { LaravelQueue } from './testing/laravel-queue';
import { startRedis } from './testing/servers';

/*
 * The controller's reading of each queue state, with the queue driven the way
 * laravel/framework drives it (testing/laravel-queue.ts: RedisQueue's calls, in
 * LuaScripts' order) on a real redis-server, the lanes' services in moto.
 */

const { harness, servers } = fileHarnesses();

const nowSeconds = () => Math.floor(Date.now() / 1000);
const lane = (report: TickReport, name: string) => report.lanes.find((l) => l.lane === name)!;

describe('each queue state as Laravel leaves it', () => {
  it("ready: dispatched jobs wake the lane, and their age is the head job's createdAt", async () => {
    const h = await harness([{ name: 'image' }]);
    await h.queue.push('image', 3, { createdAt: nowSeconds() - 45 });
    const r = lane(await h.controller.tick(), 'image');
    expect(r).toMatchObject({ ready: 3, reserved: 0, delayed: 0, backlog: 3, desired: 1, reason: 'wake-from-zero' });
    expect(r.oldestRunnableAgeSeconds).toBeGreaterThanOrEqual(45);
    expect(r.oldestRunnableAgeSeconds).toBe(r.oldestReadyAgeSeconds);
  });

  it('delayed, not due: no backlog, and idle until it comes within the look-ahead, which wakes the lane in time', async () => {
    const h = await harness([{ name: 'image', current: 1 }]);
    await h.queue.later('image', nowSeconds() + 600, 4);
    const r = lane(await h.controller.tick(), 'image');
    expect(r).toMatchObject({ ready: 0, delayed: 4, delayedDue: 0, backlog: 0, oldestRunnableAgeSeconds: 0, desired: 1 });
    // Idle: its drain history decides (the harness has none yet), not the job ten minutes out.
    expect(r.reason).toBe('hold-one-no-history');
    await h.queue.later('image', nowSeconds() + 60, 1);
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({ delayed: 5, backlog: 0, desired: 1, reason: 'steady' });
  });

  it('delayed and due: backlog, and runnable since the job became available, though no worker moved it yet', async () => {
    const h = await harness([{ name: 'image' }]);
    await h.queue.later('image', nowSeconds() - 120, 2);
    const r = lane(await h.controller.tick(), 'image');
    expect(r).toMatchObject({ ready: 0, delayed: 2, delayedDue: 2, backlog: 2, oldestReadyAgeSeconds: 0, desired: 1 });
    expect(r.oldestRunnableAgeSeconds).toBeGreaterThanOrEqual(120);
    expect(await h.metric('OldestRunnableAgeSeconds', 'image')).toBeGreaterThanOrEqual(120);
    expect(await h.metric('OldestReadyAgeSeconds', 'image')).toBe(0);
  });

  it('delayed, due within the look-ahead: the lane wakes before the jobs come due, so a task is up when they do', async () => {
    const h = await harness([{ name: 'soon' }, { name: 'later' }]);
    await h.queue.later('soon', nowSeconds() + 90, 3);
    await h.queue.later('later', nowSeconds() + 600, 3);
    const report = await h.controller.tick();
    expect(lane(report, 'soon')).toMatchObject({ delayedDue: 0, backlog: 0, desired: 1, reason: 'wake-from-zero' });
    expect(lane(report, 'later')).toMatchObject({ delayedDue: 0, desired: 0, reason: 'steady' });
  });

  it('reserved: a running job is backlog until it is deleted', async () => {
    const h = await harness([{ name: 'image', current: 1 }]);
    const [job] = await h.queue.reserve('image', nowSeconds());
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({
      ready: 0,
      reserved: 1,
      backlog: 1,
      oldestRunnableAgeSeconds: 0,
      desired: 1,
    });
    await h.queue.deleteReserved('image', job);
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({ reserved: 0, backlog: 0 });
  });

  it('reserved, running long with jobs waiting: the oldest reservation dates the running job, and the lane is sized to start the rest in time', async () => {
    const h = await harness(
      [{ name: 'image', current: 1, max: 8, backlogPerTask: 50, maxPickupSeconds: 300, workersPerTask: 2, jobTimeoutSeconds: 600 }],
      {
        redis: { retryAfterSeconds: 900 },
      },
    );
    // Two workers picked up a job each 240 s ago (retry_after 900: the reservations expire in 660 s); 10 more wait.
    await h.queue.reserve('image', nowSeconds() - 240, 2);
    await h.queue.push('image', 10);
    const r = lane(await h.controller.tick(), 'image');
    expect(r.oldestRunningSeconds).toBeGreaterThanOrEqual(240);
    expect(r.oldestRunningSeconds).toBeLessThan(250);
    // ceil(10 waiting × 240 s / (300 s × 2 workers)) = 4 tasks, where ceil(12 / 50) = 1.
    expect(r).toMatchObject({ ready: 10, reserved: 2, backlog: 12, desired: 4, reason: 'scale-out-for-pickup' });
  });

  it('expired reservations (the workers died): backlog that wakes the lane, and old runnable work for the alarm', async () => {
    const h = await harness([{ name: 'image' }]);
    // Popped 400 s ago with retry_after 90: expired 310 s ago, and no worker is left to migrate it.
    await h.queue.reserve('image', nowSeconds() - 400, 2);
    const r = lane(await h.controller.tick(), 'image');
    expect(r).toMatchObject({
      ready: 0,
      reserved: 2,
      stuckReserved: 0,
      backlog: 2,
      oldestReadyAgeSeconds: 0,
      desired: 1,
      reason: 'wake-from-zero',
    });
    expect(r.oldestRunnableAgeSeconds).toBeGreaterThanOrEqual(310);
    // A worker's next pop migrates them back to ready, as RedisQueue::migrate does.
    await h.queue.pop('image', nowSeconds());
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({ ready: 1, reserved: 1 });
  });

  it('released: a failed attempt goes back to delayed and counts once it is due', async () => {
    const h = await harness([{ name: 'image', current: 1 }]);
    const [job] = await h.queue.reserve('image', nowSeconds());
    await h.queue.release('image', job, nowSeconds() - 1);
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({ reserved: 0, delayed: 1, delayedDue: 1, backlog: 1 });
  });

  it('drained: once the last job is deleted nothing is left, and the keys are gone', async () => {
    const h = await harness([{ name: 'image', current: 1 }]);
    await h.queue.push('image', 1);
    const job = await h.queue.pop('image', nowSeconds());
    await h.queue.deleteReserved('image', job!);
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({ ready: 0, reserved: 0, delayed: 0, backlog: 0 });
    expect(await h.writer.exists(h.queue.key('image'), `${h.queue.key('image')}:reserved`)).toBe(0);
  });

  it('two queues per lane, in priority order: both are counted', async () => {
    const h = await harness([{ name: 'image', queues: ['image-urgent', 'image'], backlogPerTask: 2 }]);
    await h.queue.push('image-urgent', 1);
    await h.queue.push('image', 2);
    await h.queue.later('image', nowSeconds() - 5);
    expect(lane(await h.controller.tick(), 'image')).toMatchObject({ ready: 3, delayedDue: 1, backlog: 4, desired: 2 });
  });

  it('an empty prefix and a prefix that itself contains "queues:" read the same layout', async () => {
    for (const keyPrefix of ['', 'x_queues:app_']) {
      const redis = await startRedis();
      servers.push(redis);
      const h = await harness([{ name: 'image' }], { redisPort: redis.port, redis: { keyPrefix } });
      await h.queue.push('image', 2);
      expect(await h.writer.llen(`${keyPrefix}queues:image`)).toBe(2);
      expect(lane(await h.controller.tick(), 'image')).toMatchObject({ ready: 2 });
    }
  });

  it("reads Horizon's pushedAt and a payload without any timestamp (before v12.11.0)", async () => {
    const h = await harness([{ name: 'horizon' }, { name: 'legacy' }]);
    await h.queue.push('horizon', 1, { pushedAt: `${nowSeconds() - 200}.5371` });
    await h.queue.push('legacy', 1, { legacy: true });
    const report = await h.controller.tick();
    expect(lane(report, 'horizon').oldestRunnableAgeSeconds).toBeGreaterThanOrEqual(199);
    expect(lane(report, 'legacy')).toMatchObject({ ready: 1, oldestReadyAgeSeconds: null, oldestRunnableAgeSeconds: null });
  });
});

describe('retry_after null: reservations never expire', () => {
  it('reports a reservation older than the job timeout as stuck, and lets the lane drain instead of holding a task for it', async () => {
    const h = await harness([{ name: 'image', current: 0, jobTimeoutSeconds: 60 }], { redis: { retryAfterSeconds: null } });
    await h.queue.reserve('image', nowSeconds() - 600); // its worker died ten minutes ago
    await h.queue.reserve('image', nowSeconds() - 10); // running now
    const r = lane(await h.controller.tick(), 'image');
    expect(r).toMatchObject({ reserved: 2, stuckReserved: 1, backlog: 1, oldestRunnableAgeSeconds: 0, desired: 1 });
    expect(await h.metric('StuckReserved', 'image')).toBe(1);
    // A worker's pop never hands the stuck job out again (RedisQueue::migrate skips :reserved).
    expect(await h.queue.pop('image', nowSeconds())).toBeUndefined();
  });
});

describe('baseline lanes', () => {
  it('are measured and published, never read from or written to ECS', async () => {
    const h = await harness([
      { name: 'image', sized: false, current: 1 },
      { name: 'bulk', sized: true },
    ]);
    await h.queue.push('image', 40);
    h.clients.reset();
    const report = await h.controller.tick();
    expect(lane(report, 'image')).toMatchObject({ ready: 40, backlog: 40, sized: false });
    expect(lane(report, 'image').desired).toBeUndefined();
    expect(lane(report, 'bulk')).toMatchObject({ sized: true, desired: 0 });
    expect(report.changes).toEqual([]);
    expect(await h.metric('Backlog', 'image')).toBe(40);
    expect(Object.fromEntries(h.clients.sent)).toEqual({ DescribeServicesCommand: 1, PutMetricDataCommand: 1 });
  });
});

describe('a wrong key prefix', () => {
  const logs: Record<string, unknown>[] = [];
  async function probed(lanes: readonly LaneSpec[], keyPrefix: string, maxCalls = 100): Promise<Harness> {
    const redis = await startRedis();
    servers.push(redis);
    // COUNT 10 a call: a walk of a few hundred keys takes many SCAN calls.
    const redisOptions = { keyPrefix, prefixProbe: true, prefixProbeScanCount: 10, prefixProbeMaxCalls: maxCalls };
    return harness(lanes, { redisPort: redis.port, redis: redisOptions, log: (entry) => logs.push(entry) });
  }

  it('is found: the lane reads absent while its keys sit under the prefix the application really uses', async () => {
    // The application was created from laravel/laravel v12.1.0 or later; the file says the old default.
    const h = await probed(
      [
        { name: 'image', current: 2 },
        { name: 'bulk', current: 1 },
      ],
      'propertyfeed_database_',
    );
    const app = new LaravelQueue(h.writer, { prefix: 'propertyfeed-database-' });
    await app.push('image', 5);
    await app.push('bulk', 1);
    // Unrelated keys the SCAN walks past (cache entries), enough for several SCAN calls.
    for (let i = 0; i < 200; i += 1) await h.writer.set(`propertyfeed-cache-entry-${i}`, '1');

    const report = await h.controller.tick();

    expect(lane(report, 'image')).toMatchObject({
      ready: 0,
      keysUnderOtherPrefix: ['propertyfeed-database-'],
      desired: 2,
      reason: 'hold-keys-elsewhere',
    });
    expect(await h.metric('KeysUnderOtherPrefix', 'image')).toBe(1);
    expect(logs).toContainEqual(
      expect.objectContaining({
        message: 'key prefix mismatch',
        lane: 'image',
        configuredPrefix: 'propertyfeed_database_',
        foundPrefixes: ['propertyfeed-database-'],
      }),
    );
    expect(report.changes).toEqual([]);
  });

  it('is walked for a bounded number of SCAN calls a tick, resuming where the last tick stopped', async () => {
    const h = await probed([{ name: 'image', current: 3 }], 'propertyfeed_database_', 1);
    await new LaravelQueue(h.writer, { prefix: 'propertyfeed-database-' }).push('image', 1);
    for (let i = 0; i < 300; i += 1) await h.writer.set(`propertyfeed-cache-entry-${i}`, '1');
    const stats = localRedis(h.options.redisPort);
    let ticks = 0;
    let report: TickReport | undefined;
    do {
      await stats.config('RESETSTAT');
      report = await h.controller.tick();
      ticks += 1;
      // One SCAN call per tick (prefixProbeMaxCalls 1), whatever the keyspace.
      expect(await stats.info('commandstats')).toMatch(/cmdstat_scan:calls=1,/);
    } while (lane(report, 'image').keysUnderOtherPrefix === undefined && ticks < 200);
    stats.disconnect();
    // Found within the walk's bound: 300 keys in 512 buckets at about 10 buckets a tick.
    expect(ticks).toBeLessThanOrEqual(60);
    expect(lane(report, 'image')).toMatchObject({ keysUnderOtherPrefix: ['propertyfeed-database-'], reason: 'hold-keys-elsewhere' });
  });

  it('is not suspected of a lane that reads non-empty, and a correct prefix on an idle lane is cleared after one walk', async () => {
    const h = await probed(
      [
        { name: 'image', current: 1 },
        { name: 'idle', current: 1 },
      ],
      'app_database_',
    );
    await h.queue.push('image', 1);
    await h.writer.set('app_database_cache:x', '1');
    const report = await h.controller.tick();
    expect(lane(report, 'image').keysUnderOtherPrefix).toBeUndefined();
    expect(lane(report, 'idle').keysUnderOtherPrefix).toBeUndefined();
    expect(await h.metric('KeysUnderOtherPrefix', 'idle')).toBe(0);
  });

  it('is looked for with a bounded SCAN, at most once per probe interval', async () => {
    const h = await probed([{ name: 'idle', current: 1 }], 'app_database_');
    for (let i = 0; i < 50; i += 1) await h.writer.set(`k${i}`, '1');
    const stats = localRedis(h.options.redisPort);
    await h.controller.tick();
    await stats.config('RESETSTAT');
    await h.controller.tick();
    const info = await stats.info('commandstats');
    stats.disconnect();
    // The walk finished on the first tick; the second, within the interval, sends no SCAN.
    expect(info).not.toMatch(/cmdstat_scan:/);
  });
});
