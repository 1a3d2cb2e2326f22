import {
  ControllerConfigError,
  DEFLATED_CONFIG_PREFIX,
  MAX_CONTROLLER_LANES,
  encodeControllerConfig,
  parseControllerConfig,
  type ControllerConfigInput,
} from './controller-config';

const valid: ControllerConfigInput = {
  cluster: 'propertyfeed-production',
  environment: 'production',
  redis: { host: 'master.queues.abc123.euw2.cache.amazonaws.com', keyPrefix: 'propertyfeed_database_' },
  fleetMaxTasks: 16,
  lanes: [{ name: 'image', service: 'propertyfeed-image', queues: ['image'], min: 0, max: 2, backlogPerTask: 50 }],
};

function problems(config: unknown): readonly string[] {
  try {
    parseControllerConfig(JSON.stringify(config));
  } catch (error) {
    if (error instanceof ControllerConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('CONTROLLER_CONFIG', () => {
  it('applies the defaults', () => {
    expect(parseControllerConfig(JSON.stringify(valid))).toEqual({
      ...valid,
      namespace: 'QueueLanes',
      reservedTasks: 0,
      redis: {
        ...valid.redis,
        port: 6379,
        tls: true,
        cluster: false,
        database: 0,
        connectTimeoutMs: 2000,
        commandTimeoutMs: 3000,
        retryAfterSeconds: 90,
        prefixProbe: true,
        prefixProbeIntervalSeconds: 300,
        prefixProbeScanCount: 1000,
        prefixProbeMaxCalls: 10,
      },
      lanes: [
        {
          ...valid.lanes[0],
          broker: 'redis',
          sized: true,
          jobTimeoutSeconds: 60,
          lookaheadSeconds: 120,
          drainMinutes: 15,
          scaleInStep: 1,
          workersPerTask: 1,
        },
      ],
    });
  });

  it('refuses a warm window whose cron it cannot read, naming the field', () => {
    const lane = { ...valid.lanes[0], warm: [{ at: '0 2 * * 8', tasks: 1, minutes: 30 }] };
    expect(problems({ ...valid, lanes: [lane] })).toEqual(['lanes[0] (image).warm[0].at: day of week "8" is outside 0-7']);
    expect(problems({ ...valid, lanes: [{ ...lane, warm: [{ at: '0 2 * * *', tasks: 1, minutes: 30 }] }] })).toEqual([]);
  });

  it('says when it is missing or not JSON', () => {
    expect(() => parseControllerConfig(undefined)).toThrow(
      "CONTROLLER_CONFIG is invalid:\n  - CONTROLLER_CONFIG is not set (expected the controller's JSON configuration)",
    );
    expect(() => parseControllerConfig('{lanes')).toThrow(/CONTROLLER_CONFIG is invalid:\n {2}- not valid JSON: /);
  });

  it('lists every problem with its path, naming the lane', () => {
    const lane = { ...valid.lanes[0], min: 3, max: 2 };
    expect(problems({ ...valid, fleetMaxTasks: 0, lanes: [lane, { ...lane, name: 'Bulk', min: 0, backlogPerTask: 0 }] })).toEqual([
      'fleetMaxTasks: Too small: expected number to be >=1',
      'lanes[0] (image).min: must not exceed max',
      'lanes[1] (Bulk).name: must be lower-case letters, digits and dashes, starting with a letter',
      'lanes[1] (Bulk).backlogPerTask: Too small: expected number to be >=1',
      'lanes[1] (Bulk).service: duplicates lanes[0].service',
      'lanes[1] (Bulk).queues[0]: queue "image" is already consumed by lanes[0]',
    ]);
  });

  it('rejects unknown keys and a missing key prefix', () => {
    expect(problems({ ...valid, redis: { host: 'h', prefix: 'x' }, extra: true })).toEqual([
      'redis.keyPrefix: Invalid input: expected string, received undefined',
      'redis: Unrecognized key: "prefix"',
      '(root): Unrecognized key: "extra"',
    ]);
  });

  it('rejects a database other than 0 in cluster mode', () => {
    expect(problems({ ...valid, redis: { ...valid.redis, cluster: true, database: 1 } })).toEqual([
      'redis.database: must be 0 in cluster mode (Redis Cluster has one database)',
    ]);
  });

  it('rejects duplicate lanes, services and queues', () => {
    const lane = valid.lanes[0];
    expect(
      problems({
        ...valid,
        lanes: [
          { ...lane, queues: ['image', 'image'] },
          { ...lane, queues: ['image', 'bulk'] },
        ],
      }),
    ).toEqual([
      'lanes[1] (image).name: duplicates lanes[0].name',
      'lanes[1] (image).service: duplicates lanes[0].service',
      'lanes[0] (image).queues[1]: queue "image" is listed twice',
      'lanes[1] (image).queues[0]: queue "image" is already consumed by lanes[0]',
    ]);
  });

  it('takes SQS lanes with their dead-letter queue, and needs Redis only while a lane reads it', () => {
    const feeds = {
      ...valid.lanes[0],
      name: 'feeds',
      service: 'propertyfeed-feeds',
      broker: 'sqs',
      sqs: { deadLetterQueue: 'propertyfeed-production-feeds-dlq' },
      queues: ['propertyfeed-production-feeds'],
    };
    const sqsOnly = { ...valid, redis: undefined, lanes: [feeds] };
    expect(parseControllerConfig(JSON.stringify(sqsOnly)).lanes[0]).toMatchObject({ broker: 'sqs', sqs: feeds.sqs });
    expect(parseControllerConfig(JSON.stringify(valid)).lanes[0].broker).toBe('redis');
    expect(problems({ ...sqsOnly, lanes: [feeds, valid.lanes[0]] })).toEqual(['redis: is required: lanes[1] reads Redis']);
    expect(
      problems({
        ...sqsOnly,
        lanes: [
          { ...feeds, sqs: undefined },
          { ...valid.lanes[0], sqs: feeds.sqs },
        ],
      }),
    ).toEqual([
      'lanes[0] (feeds).sqs: is required with broker sqs and allowed only there',
      'lanes[1] (image).sqs: is required with broker sqs and allowed only there',
      'redis: is required: lanes[1] reads Redis',
    ]);
  });

  it('caps the lanes at what one PutMetricData and one GetMetricData can carry', () => {
    const lanes = Array.from({ length: MAX_CONTROLLER_LANES + 1 }, (_, i) => ({
      ...valid.lanes[0],
      name: `l${i}`,
      service: `s${i}`,
      queues: [`q${i}`],
    }));
    expect(problems({ ...valid, lanes })).toEqual([`lanes: Too big: expected array to have <=${MAX_CONTROLLER_LANES} items`]);
  });
});

describe('a deflated CONTROLLER_CONFIG', () => {
  it('is written only when the JSON would not fit, and reads back as the same configuration', () => {
    const json = JSON.stringify(valid);
    expect(encodeControllerConfig(json, 4096)).toBe(json);
    const deflated = encodeControllerConfig(json, 10);
    expect(deflated.startsWith(DEFLATED_CONFIG_PREFIX)).toBe(true);
    expect(parseControllerConfig(deflated)).toEqual(parseControllerConfig(json));
  });

  it('says so when it does not inflate', () => {
    expect(() => parseControllerConfig(`${DEFLATED_CONFIG_PREFIX}bm90IGRlZmxhdGVk`)).toThrow(/starts with deflate: but does not inflate/);
  });
});
