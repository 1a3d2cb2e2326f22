import { parseControllerConfig } from '@queue-lanes/backlog-controller';
import { buildControllerConfig, controllerLanes, redisKeyPrefix, reservedTasks } from './index';
import { env, redisLane, sqsLane } from './testing/fixtures';

const options = { parameterPathPrefix: '/propertyfeed/staging' };

describe('the controller configuration', () => {
  const mixed = env(
    [
      redisLane('image', 'scaling', ['backlogPerTask: 20', 'drainMinutes: 30']),
      '  sync:\n    queues: [sync, sync-low]\n    stage: owned\n    tasks: { min: 1, max: 4 }\n    priority: 5',
      redisLane('bulk', 'baseline', ['tasks: { baseline: 2, max: 2 }']),
      redisLane('archive', 'off'),
      sqsLane('feeds', 'owned', ['tasks: { min: 0, max: 3 }']),
      sqsLane('exports', 'baseline'),
    ].join('\n'),
  );
  const config = parseControllerConfig(JSON.stringify(buildControllerConfig(mixed, options)));

  it('manages the Redis lanes at scaling and owned only, in priority order', () => {
    expect(controllerLanes(mixed).map((l) => l.name)).toEqual(['sync', 'image']);
    expect(config.lanes).toEqual([
      {
        name: 'sync',
        service: 'propertyfeed-sync',
        queues: ['sync', 'sync-low'],
        min: 1,
        max: 4,
        backlogPerTask: 50,
        drainMinutes: 15,
        scaleInStep: 1,
        priority: 5,
      },
      {
        name: 'image',
        service: 'propertyfeed-image',
        queues: ['image'],
        min: 0,
        max: 2,
        backlogPerTask: 20,
        drainMinutes: 30,
        scaleInStep: 1,
        priority: 10,
      },
    ]);
  });

  it('caps the fleet at fleet.maxTasks, less baseline counts and SQS maxima', () => {
    // bulk 2 (baseline) + exports 1 (baseline) + feeds 3 (sqs, owned).
    expect(reservedTasks(mixed)).toBe(6);
    expect(config).toMatchObject({ cluster: 'propertyfeed-staging', environment: 'staging', namespace: 'QueueLanes', fleetMaxTasks: 8, reservedTasks: 6 });
  });

  it("reads the workers' Redis: host, port, TLS and the AUTH token parameter", () => {
    expect(config.redis).toEqual({
      host: 'queues.cache.internal',
      port: 6379,
      tls: true,
      keyPrefix: 'propertyfeed_database_',
      cluster: false,
      database: 0,
      authParameterName: '/propertyfeed/staging/env/REDIS_PASSWORD',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 3000,
    });
  });

  it('takes redis settings and the network port from the file', () => {
    const e = env(redisLane('image', 'scaling'), {
      network: [
        'network:',
        '  vpcId: vpc-0123456789abcdef0',
        '  privateSubnetIds: [subnet-0123456789abcdef0]',
        '  redis: { securityGroupId: sg-0123456789abcdef1, port: 6380 }',
        '  aurora: { securityGroupId: sg-0123456789abcdef2 }',
      ].join('\n'),
      redis: 'redis: { host: clustercfg.queues.internal, cluster: true, tls: false, username: controller, keyPrefix: "" }',
    });
    expect(buildControllerConfig(e, options).redis).toEqual({
      host: 'clustercfg.queues.internal',
      port: 6380,
      tls: false,
      keyPrefix: '',
      cluster: true,
      database: 0,
      username: 'controller',
    });
  });

  it('derives the key prefix as Laravel ≤12 does, unless the file or REDIS_PREFIX says otherwise', () => {
    const plain = (p: string) => `parameters: { plain: { REDIS_HOST: h${p} }, secure: [DB_PASSWORD, REDIS_PASSWORD] }`;
    expect(redisKeyPrefix(env('', { app: 'app: property-feed' }))).toBe('property_feed_database_');
    expect(redisKeyPrefix(env('', { parameters: plain(', APP_NAME: "Property Feed"') }))).toBe('property_feed_database_');
    expect(redisKeyPrefix(env('', { parameters: plain(', REDIS_PREFIX: pf-') }))).toBe('pf-');
    expect(redisKeyPrefix(env('', { redis: 'redis: { keyPrefix: propertyfeed-database- }', parameters: plain(', REDIS_PREFIX: pf-') }))).toBe(
      'propertyfeed-database-',
    );
  });

  it('leaves the AUTH token out when Redis has none', () => {
    const e = env(redisLane('image', 'scaling'), { redis: '' });
    expect(buildControllerConfig(e, options).redis).not.toHaveProperty('authParameterName');
  });

  it('needs a Redis host once a Redis lane scales', () => {
    const e = env([redisLane('image', 'scaling'), redisLane('sync', 'owned')].join('\n'), {
      parameters: 'parameters: { secure: [DB_PASSWORD, REDIS_PASSWORD] }',
    });
    expect(() => buildControllerConfig(e, options)).toThrow(
      'redis.host: Redis lanes image, sync are at stage scaling or owned, so the backlog controller reads the queues from Redis, but no Redis host is configured; set redis.host, or REDIS_HOST under parameters.plain',
    );
  });

  it('has nothing to do without a controller-managed lane', () => {
    expect(() => buildControllerConfig(env(redisLane('image', 'baseline')), options)).toThrow(
      'the backlog controller has no lane to manage: no Redis lane is at stage scaling or owned',
    );
  });
});
