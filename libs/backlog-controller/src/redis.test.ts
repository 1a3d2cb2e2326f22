import { parseControllerConfig } from '@queue-lanes/contract';
import { clusterClientOptions, laneReading, redisClientOptions, withTimeout, type QueueReading } from './redis';

const redis = (overrides: Record<string, unknown> = {}) =>
  parseControllerConfig(
    JSON.stringify({
      cluster: 'c',
      environment: 'e',
      fleetMaxTasks: 1,
      lanes: [{ name: 'image', service: 's', queues: ['image'], min: 0, max: 1, backlogPerTask: 1 }],
      redis: { host: 'master.queues.abc.euw2.cache.amazonaws.com', keyPrefix: '', ...overrides },
    }),
  ).redis!;

describe('Redis connection options', () => {
  it('use TLS, the AUTH token, the database and short timeouts, and never retry on their own', () => {
    const options = redisClientOptions(redis({ database: 2, username: 'controller' }), 'token');
    expect(options).toMatchObject({
      host: 'master.queues.abc.euw2.cache.amazonaws.com',
      port: 6379,
      db: 2,
      username: 'controller',
      password: 'token',
      tls: {},
      connectTimeout: 2000,
      commandTimeout: 3000,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    expect(options.retryStrategy?.(1)).toBeNull();
    expect(redisClientOptions(redis({ tls: false }), undefined).tls).toBeUndefined();
  });

  it('connect a cluster by node name (for TLS) with the same credentials', () => {
    const options = clusterClientOptions(redis({ cluster: true }), 'token');
    expect(options.redisOptions).toMatchObject({ password: 'token', tls: {}, maxRetriesPerRequest: 0 });
    expect(options.clusterRetryStrategy?.(1, undefined)).toBeNull();
    const lookup = jest.fn();
    options.dnsLookup?.('node-0001.queues.abc.cache.amazonaws.com', lookup);
    expect(lookup).toHaveBeenCalledWith(null, 'node-0001.queues.abc.cache.amazonaws.com');
  });
});

describe('a lane reading', () => {
  const queue = (q: Partial<QueueReading>): QueueReading => ({
    queue: 'q',
    ready: 0,
    reserved: 0,
    delayed: 0,
    delayedDue: 0,
    stuckReserved: 0,
    ...q,
  });

  it('sums its queues and takes the oldest ready job', () => {
    const queues = [queue({ ready: 2, oldestQueuedAt: 900 }), queue({ ready: 1, reserved: 2, oldestQueuedAt: 700 })];
    const reading = laneReading('image', queues, 1000);
    expect(reading).toMatchObject({ ready: 3, reserved: 2, oldestReadyAgeSeconds: 300 });
  });

  it('has age 0 with nothing ready, and an unknown age if any ready job has no timestamp', () => {
    expect(laneReading('image', [queue({ delayed: 4 })], 1000).oldestReadyAgeSeconds).toBe(0);
    const oneUnknown = [queue({ ready: 1, oldestQueuedAt: 900 }), queue({ ready: 1 })];
    expect(laneReading('image', oneUnknown, 1000).oldestReadyAgeSeconds).toBeUndefined();
  });

  it('never reports a negative age (clock skew between the app and the Lambda)', () => {
    expect(laneReading('image', [queue({ ready: 1, oldestQueuedAt: 1010 })], 1000).oldestReadyAgeSeconds).toBe(0);
  });
});

describe('withTimeout', () => {
  it('rejects a promise that does not settle in time', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20, 'connecting')).rejects.toThrow('connecting timed out after 20 ms');
    await expect(withTimeout(Promise.resolve(1), 20, 'x')).resolves.toBe(1);
  });
});
