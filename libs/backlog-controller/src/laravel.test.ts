import { hasHashTag, parseQueueKey, payloadQueuedAt, queueKeys } from '@queue-lanes/contract';
import { keySlot } from './redis';
import { laravelPayload } from './testing/laravel-queue';

describe("Laravel's Redis key layout", () => {
  it('puts ready, reserved and delayed under queues:<q> and the prefix', () => {
    expect(queueKeys('image', 'propertyfeed_database_', false)).toEqual({
      queue: 'image',
      ready: 'propertyfeed_database_queues:image',
      reserved: 'propertyfeed_database_queues:image:reserved',
      delayed: 'propertyfeed_database_queues:image:delayed',
    });
    expect(queueKeys('image', '', false).ready).toBe('queues:image');
  });

  it('hash-tags the queue in cluster mode so all its keys share a slot', () => {
    const keys = queueKeys('image', 'app_database_', true);
    expect(keys).toMatchObject({ ready: 'app_database_queues:{image}', delayed: 'app_database_queues:{image}:delayed' });
    expect(new Set([keys.ready, keys.reserved, keys.delayed].map(keySlot)).size).toBe(1);
  });

  it('leaves a queue name that already has a hash tag alone (older releases made the app write {q})', () => {
    expect(queueKeys('{image}', '', true).ready).toBe('queues:{image}');
    expect(hasHashTag('{image}')).toBe(true);
    expect(hasHashTag('a{}b')).toBe(false);
    expect(hasHashTag('image}')).toBe(false);
  });
});

describe('a key read back to its prefix and queue', () => {
  it('takes the last "queues:" so a prefix may contain the word, and knows every suffix and hash tag', () => {
    expect(parseQueueKey('my-app-database-queues:image', ['image'])).toEqual({ prefix: 'my-app-database-', queue: 'image' });
    expect(parseQueueKey('queues:image:reserved', ['image'])).toEqual({ prefix: '', queue: 'image' });
    expect(parseQueueKey('x_queues:database_queues:{image}:notify', ['image'])).toEqual({ prefix: 'x_queues:database_', queue: 'image' });
    expect(parseQueueKey('app_queues:image-retry:delayed', ['image', 'image-retry'])).toEqual({ prefix: 'app_', queue: 'image-retry' });
  });

  it('ignores keys of other queues and other kinds', () => {
    expect(parseQueueKey('app_queues:bulk', ['image'])).toBeUndefined();
    expect(parseQueueKey('app_queues:image:batch', ['image'])).toBeUndefined();
    expect(parseQueueKey('app_horizon:queue:image', ['image'])).toBeUndefined();
  });
});

describe('when the oldest ready job was queued', () => {
  it('reads createdAt (laravel/framework v12.11.0 and later)', () => {
    expect(payloadQueuedAt(laravelPayload({ createdAt: 1_700_000_000 }))).toBe(1_700_000_000);
  });

  it("reads Horizon's pushedAt (seconds with microseconds, as a string)", () => {
    expect(payloadQueuedAt(laravelPayload({ pushedAt: '1700000000.5371' }))).toBeCloseTo(1_700_000_000.5371, 3);
  });

  it('is unknown for older payloads and for anything that is not a payload', () => {
    expect(payloadQueuedAt(laravelPayload({ legacy: true }))).toBeUndefined();
    expect(payloadQueuedAt('not json')).toBeUndefined();
    expect(payloadQueuedAt('"a string"')).toBeUndefined();
    expect(payloadQueuedAt('{"createdAt":"soon"}')).toBeUndefined();
  });
});

describe('cluster hash slots', () => {
  it('match Redis CLUSTER KEYSLOT', () => {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
  });
});
