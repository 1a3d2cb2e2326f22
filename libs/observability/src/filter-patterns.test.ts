import { AURORA_ERROR_PATTERN, FAILED_JOB_PATTERN, REDIS_ERROR_PATTERN, jsonEquals } from './index';
import { FINISHED_JOB_PATTERN, anyPhrase, matchesFilterPattern, regexPattern } from './filter-patterns';

// Lines as the awslogs driver delivers them: Monolog's LineFormatter (LOG_CHANNEL=stderr)
// puts each exception's class, code and message on its header line.
const LOG = '[2025-01-31 12:00:01] production.ERROR:';
const HOST = 'master.propertyfeed.abc123.euw2.cache.amazonaws.com';

const REDIS_LINES = [
  `${LOG} Connection refused {"exception":"[object] (RedisException(code: 0): Connection refused at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connectors/PhpRedisConnector.php:159)"}`,
  `${LOG} Connection timed out {"exception":"[object] (RedisException(code: 0): Connection timed out at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connectors/PhpRedisConnector.php:159)"}`,
  `${LOG} read error on connection to ${HOST}:6379 {"exception":"[object] (RedisException(code: 0): read error on connection to ${HOST}:6379 at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connections/PhpRedisConnection.php:553)"}`,
  `${LOG} Connection lost {"exception":"[object] (RedisException(code: 0): Connection lost at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connections/PhpRedisConnection.php:553)"}`,
  `${LOG} php_network_getaddresses: getaddrinfo for redis failed: Name or service not known {"exception":"[object] (RedisException(code: 0): php_network_getaddresses: getaddrinfo for redis failed: Name or service not known at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connectors/PhpRedisConnector.php:159)"}`,
  `${LOG} Couldn't map cluster keyspace using any provided seed {"exception":"[object] (RedisClusterException(code: 0): Couldn't map cluster keyspace using any provided seed at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connectors/PhpRedisConnector.php:190)"}`,
  `${LOG} Connection refused [tcp://10.0.1.20:6379] {"exception":"[object] (Predis\\\\Connection\\\\ConnectionException(code: 111): Connection refused [tcp://10.0.1.20:6379] at /var/www/html/vendor/predis/predis/src/Connection/AbstractConnection.php:144)"}`,
  `${LOG} Connection timed out [tls://${HOST}:6379] {"exception":"[object] (Predis\\\\Connection\\\\ConnectionException(code: 110): Connection timed out [tls://${HOST}:6379] at /var/www/html/vendor/predis/predis/src/Connection/AbstractConnection.php:144)"}`,
  `${LOG} Error while reading line from the server. [tcp://10.0.1.20:6379] {"exception":"[object] (Predis\\\\Connection\\\\ConnectionException(code: 0): Error while reading line from the server. [tcp://10.0.1.20:6379] at /var/www/html/vendor/predis/predis/src/Connection/AbstractConnection.php:144)"}`,
];

const AURORA_LINES = [
  `${LOG} SQLSTATE[HY000] [2002] Connection refused (Connection: mysql, SQL: select * from \`feeds\` where \`id\` = 1 limit 1) {"exception":"[object] (Illuminate\\\\Database\\\\QueryException(code: 2002): SQLSTATE[HY000] [2002] Connection refused (Connection: mysql, SQL: select * from \`feeds\` where \`id\` = 1 limit 1) at /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php:813)"}`,
  // The chained PDOException repeats on its own line (so one error usually counts twice).
  '[previous exception] [object] (PDOException(code: 2002): SQLSTATE[HY000] [2002] Connection refused at /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connectors/Connector.php:65)',
  `${LOG} SQLSTATE[HY000] [2002] Connection timed out (Connection: mysql, SQL: update \`images\` set \`status\` = done)`,
  `${LOG} SQLSTATE[HY000] [2002] php_network_getaddresses: getaddrinfo for propertyfeed.cluster-c1a2b3c4d5e6.eu-west-2.rds.amazonaws.com failed: Temporary failure in name resolution (Connection: mysql, SQL: select 1)`,
  `${LOG} SQLSTATE[HY000] [2006] MySQL server has gone away (Connection: mysql, SQL: select 1)`,
  `${LOG} SQLSTATE[HY000]: General error: 2006 MySQL server has gone away (Connection: mysql, SQL: insert into \`images\` …)`,
  `${LOG} SQLSTATE[HY000]: General error: 2013 Lost connection to MySQL server during query (Connection: mysql, SQL: select …)`,
  `${LOG} SQLSTATE[08S01]: Communication link failure: 1053 Server shutdown in progress (Connection: mysql, SQL: select 1)`,
  `${LOG} SQLSTATE[HY000] [1040] Too many connections (Connection: mysql, SQL: select 1)`,
  `${LOG} SQLSTATE[HY000]: General error: 1290 The MySQL server is running with the --read-only option so it cannot execute this statement (Connection: mysql, SQL: update …)`,
];

// What queue:work prints for people (Laravel 8 to 9.40's writeStatus, as the worker harness's
// Laravel 8.83 prints them; 9.41 to 13's writeOutputForCli, in English and in French): never counted.
const CONSOLE_JOB_LINES = [
  '[2026-12-05 13:48:09][ZRtwJq8FPZwj9tCgsgryNES6rjmkkF0U] Processing: App\\Jobs\\HarnessJob',
  '[2026-12-05 13:48:09][ZRtwJq8FPZwj9tCgsgryNES6rjmkkF0U] Processed:  App\\Jobs\\HarnessJob',
  '[2026-12-05 13:48:09][ZRtwJq8FPZwj9tCgsgryNES6rjmkkF0U] Failed:     App\\Jobs\\HarnessJob',
  '  2026-12-05 12:00:01 App\\Jobs\\ImportFeed 01JEXAMPLE redis feeds ....... 2s 12.5MB FAIL',
  '  2025-01-31 12:00:01 App\\Jobs\\ResizeImage ........................................ 12.34ms DONE',
  '  2025-01-31 12:00:01 App\\Jobs\\ImportFeed .................................... 2 sec. DONE',
  '  2025-01-31 12:00:00 App\\Jobs\\ResizeImage ......................................... RUNNING',
];

/** A job line as the worker entry point (libs/worker-service/src/worker.php) writes it on the harness's Laravel 8.83. */
const jobLine = (outcome: string, error: boolean) =>
  `{"queueLanes":"job","lane":"bulk","queue":"bulk","connection":"redis","job":"App\\\\Jobs\\\\HarnessJob","outcome":"${outcome}","error":${error},"runtimeSeconds":1.004,"peakMemoryMiB":14}`;

const FAILED_LINES = [jobLine('failed', true), jobLine('released', true)];
const CLEAN_LINES = [jobLine('finished', false), jobLine('released', false)];

const OTHER_LINES = [
  ...CONSOLE_JOB_LINES,
  `${LOG} App\\Jobs\\ImportFeed Failed: the feed was empty`,
  '   INFO  Processing jobs from the [image] queue.',
  `${LOG} SQLSTATE[HY000]: General error: 1205 Lock wait timeout exceeded; try restarting transaction (Connection: mysql, SQL: update …)`,
  `${LOG} SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction (Connection: mysql, SQL: update …)`,
  `${LOG} OOM command not allowed when used memory > 'maxmemory'. {"exception":"[object] (RedisException(code: 0): OOM command not allowed when used memory > 'maxmemory'. at /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connections/PhpRedisConnection.php:553)"}`,
  `#0 /var/www/html/vendor/laravel/framework/src/Illuminate/Redis/Connectors/PhpRedisConnector.php(95): Redis->connect('${HOST}', 6379, 0.0, NULL, 0, 0.0)`,
  `${LOG} App\\Jobs\\ImportFeed has been attempted too many times. {"exception":"[object] (Illuminate\\\\Queue\\\\MaxAttemptsExceededException(code: 0): …)"}`,
  `${LOG} Health check FAILED`,
  `${LOG} Connection refused`,
];

describe('the Redis connection-error pattern', () => {
  it.each(REDIS_LINES)('counts %s', (line) => {
    expect(matchesFilterPattern(REDIS_ERROR_PATTERN, line)).toBe(true);
  });

  it.each([...AURORA_LINES, ...FAILED_LINES, ...OTHER_LINES])('does not count %s', (line) => {
    expect(matchesFilterPattern(REDIS_ERROR_PATTERN, line)).toBe(false);
  });

  it('is an OR of quoted phrases', () => {
    expect(REDIS_ERROR_PATTERN).toBe(
      [
        '?"RedisException(code: 0): Connection refused"',
        '?"RedisException(code: 0): Connection timed out"',
        '?"RedisException(code: 0): Connection lost"',
        '?"RedisException(code: 0): read error on connection"',
        '?"RedisException(code: 0): Redis server went away"',
        '?"RedisException(code: 0): php_network_getaddresses"',
        '?"RedisClusterException(code: 0): Couldn\'t map cluster keyspace"',
        '?"Connection refused [tcp://"',
        '?"Connection timed out [tcp://"',
        '?"Connection refused [tls://"',
        '?"Connection timed out [tls://"',
        '?"Error while reading line from the server"',
      ].join(' '),
    );
  });
});

describe('the Aurora connection-error pattern', () => {
  it.each(AURORA_LINES)('counts %s', (line) => {
    expect(matchesFilterPattern(AURORA_ERROR_PATTERN, line)).toBe(true);
  });

  it.each([...REDIS_LINES, ...FAILED_LINES, ...OTHER_LINES])('does not count %s', (line) => {
    expect(matchesFilterPattern(AURORA_ERROR_PATTERN, line)).toBe(false);
  });

  it('is an OR of quoted phrases', () => {
    expect(AURORA_ERROR_PATTERN).toBe(
      [
        '?"SQLSTATE[HY000] [2002]"',
        '?"SQLSTATE[HY000] [2006]"',
        '?"General error: 2006 MySQL server has gone away"',
        '?"General error: 2013 Lost connection to MySQL server"',
        '?"SQLSTATE[08S01]"',
        '?"[1040] Too many connections"',
        '?"running with the --read-only option"',
      ].join(' '),
    );
  });
});

describe('the failed-job pattern', () => {
  it.each(FAILED_LINES)('counts %s', (line) => {
    expect(matchesFilterPattern(FAILED_JOB_PATTERN, line)).toBe(true);
  });

  it.each([...CLEAN_LINES, ...REDIS_LINES, ...AURORA_LINES, ...OTHER_LINES])('does not count %s', (line) => {
    expect(matchesFilterPattern(FAILED_JOB_PATTERN, line)).toBe(false);
  });

  it('is a JSON pattern on the job line, not on queue:work text', () => {
    expect(FAILED_JOB_PATTERN).toBe('{ $.queueLanes = "job" && $.error IS TRUE }');
  });
});

describe('the finished-job pattern', () => {
  it.each([...FAILED_LINES, ...CLEAN_LINES])('counts %s', (line) => {
    expect(matchesFilterPattern(FINISHED_JOB_PATTERN, line)).toBe(true);
  });

  it('counts no console line, error or other JSON', () => {
    for (const line of [...OTHER_LINES, ...REDIS_LINES, '{"queueLanes":"other","error":true}']) {
      expect(matchesFilterPattern(FINISHED_JOB_PATTERN, line)).toBe(false);
    }
    expect(FINISHED_JOB_PATTERN).toBe('{ $.queueLanes = "job" }');
  });
});

describe('pattern builders', () => {
  it('fits CloudWatch limits', () => {
    for (const pattern of [REDIS_ERROR_PATTERN, AURORA_ERROR_PATTERN, FAILED_JOB_PATTERN]) {
      expect(pattern.length).toBeLessThanOrEqual(1024);
    }
  });

  it('rejects what a pattern cannot hold', () => {
    expect(() => anyPhrase([])).toThrow('anyPhrase needs at least one phrase');
    expect(() => anyPhrase(['say "hi"'])).toThrow('cannot quote "say \\"hi\\"" in a filter pattern');
    expect(() => regexPattern('(a|b) c')).toThrow('"(a|b) c" uses characters a CloudWatch regex filter pattern does not allow');
    expect(() => jsonEquals({ 'detail.group': 'x' })).toThrow('cannot put detail.group = "x" in a JSON filter pattern');
    expect(() => jsonEquals({ 'detail.ok': true })).toThrow('cannot put detail.ok = true in a JSON filter pattern');
  });

  it('matches JSON events by field', () => {
    const pattern = jsonEquals({ '$.detail.group': 'service:propertyfeed-sync' });
    expect(pattern).toBe('{ $.detail.group = "service:propertyfeed-sync" }');
    const event = (group: string) =>
      JSON.stringify({ source: 'aws.ecs', 'detail-type': 'ECS Task State Change', detail: { group, lastStatus: 'STOPPED' } });
    expect(matchesFilterPattern(pattern, event('service:propertyfeed-sync'))).toBe(true);
    expect(matchesFilterPattern(pattern, event('service:propertyfeed-image'))).toBe(false);
    expect(matchesFilterPattern(pattern, 'not json')).toBe(false);
  });
});
