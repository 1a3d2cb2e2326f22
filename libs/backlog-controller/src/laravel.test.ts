import { hasHashTag, laravelDefaultRedisPrefix, payloadQueuedAt, queueKeys, strSlug } from './laravel';
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

describe('the default prefix from APP_NAME', () => {
  it('is Str::slug(APP_NAME, "_")."_database_" up to Laravel 12', () => {
    expect(laravelDefaultRedisPrefix()).toBe('laravel_database_');
    expect(laravelDefaultRedisPrefix('Property Feed')).toBe('property_feed_database_');
    expect(laravelDefaultRedisPrefix('acme-web')).toBe('acme_web_database_');
  });

  it('is Str::slug(APP_NAME)."-database-" from Laravel 13', () => {
    expect(laravelDefaultRedisPrefix('Property Feed', 'laravel-13')).toBe('property-feed-database-');
    expect(laravelDefaultRedisPrefix('acme_web', 'laravel-13')).toBe('acme-web-database-');
  });

  it('slugs like Str::slug: ascii, lower case, @ as "at", runs of separators and spaces collapsed', () => {
    expect(strSlug('  Café  Société!! ')).toBe('cafe-societe');
    expect(strSlug('me@home', '_')).toBe('me_at_home');
    expect(strSlug('A -- B __ C', '_')).toBe('a_b_c');
  });
});

describe('when the oldest ready job was queued', () => {
  it('reads createdAt (laravel/framework 12.x and later)', () => {
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
