/*
 * CloudWatch Logs filter patterns for the lanes' log metrics, and a small local
 * matcher for the subset of the syntax they use, so tests can feed real Laravel
 * and PHP log lines through the same terms.
 *
 * Syntax used (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):
 * - `?"phrase one" ?"phrase two"`: the event contains any of the exact, case-sensitive
 *   phrases. Quoted phrases may hold any character but `"`.
 * - `%regex%`: a regular expression over the whole message. CloudWatch allows letters,
 *   digits, `: _ # = @ / ; , -` and the operators `^ $ ? [ ] { } | \ * + .`: no
 *   parentheses and no literal space (`.` stands in for one).
 * - `{ $.a.b = "x" }`: a JSON event whose field equals the string; `{ $.a IS TRUE }`: whose field is true.
 *
 * How the worker logs reach CloudWatch: `LOG_CHANNEL=stderr` (Monolog's LineFormatter)
 * and queue:work's own output go through the awslogs driver, which makes every line
 * its own event. An exception's header line carries
 * `[object] (Class(code: N): message at file:line)`, and its chained exception
 * repeats on a `[previous exception]` line, so one PDO error usually counts twice.
 */

/**
 * Redis connectivity as phpredis (`RedisException`, `RedisClusterException`) and
 * predis (messages ending in `[tcp://host:port]`/`[tls://…]`) report it. Every phrase
 * names the Redis client, so MySQL's own "Connection refused" never counts here.
 */
export const REDIS_ERROR_PHRASES: readonly string[] = [
  'RedisException(code: 0): Connection refused',
  'RedisException(code: 0): Connection timed out',
  'RedisException(code: 0): Connection lost',
  'RedisException(code: 0): read error on connection',
  'RedisException(code: 0): Redis server went away',
  'RedisException(code: 0): php_network_getaddresses',
  "RedisClusterException(code: 0): Couldn't map cluster keyspace",
  'Connection refused [tcp://',
  'Connection timed out [tcp://',
  'Connection refused [tls://',
  'Connection timed out [tls://',
  'Error while reading line from the server',
];

/**
 * Aurora MySQL connectivity through PDO (as Laravel's QueryException repeats it):
 * - `SQLSTATE[HY000] [2002]`: cannot connect (refused, timed out, DNS, unreachable);
 * - `SQLSTATE[HY000] [2006]` and `General error: 2006`: server has gone away;
 * - `General error: 2013`: lost connection during a query;
 * - `SQLSTATE[08S01]`: communication link failure;
 * - `[1040] Too many connections`: Aurora's connection limit (more workers make it worse);
 * - `--read-only option`: a write reached a reader, i.e. a connection that outlived a failover.
 * Deliberately not matched: `Lock wait timeout exceeded` (1205) and `Deadlock found`
 * (1213) are contention between jobs, not connectivity, and surface as failed jobs.
 */
export const AURORA_ERROR_PHRASES: readonly string[] = [
  'SQLSTATE[HY000] [2002]',
  'SQLSTATE[HY000] [2006]',
  'General error: 2006 MySQL server has gone away',
  'General error: 2013 Lost connection to MySQL server',
  'SQLSTATE[08S01]',
  '[1040] Too many connections',
  'running with the --read-only option',
];

/*
 * Job figures: the JSON line the worker entry point (libs/worker-service/src/worker.php)
 * writes when a job attempt ends, from Laravel's queue events (JobProcessed,
 * JobExceptionOccurred, JobFailed), never from what queue:work prints for people:
 *   {"queueLanes":"job","lane":"bulk","queue":"bulk","connection":"redis","job":"App\\Jobs\\X",
 *    "outcome":"finished","error":false,"runtimeSeconds":1.234,"peakMemoryMiB":38.5}
 * `outcome` is finished, released or failed; `error` is true for an attempt that threw or
 * failed (a released retry of an exception included, as a loop of failing jobs shows first).
 */

/** The fields of a job line, as the entry point writes them. */
export const JOB_LINE_FIELDS = {
  kind: '$.queueLanes',
  queue: '$.queue',
  outcome: '$.outcome',
  error: '$.error',
  runtimeSeconds: '$.runtimeSeconds',
  peakMemoryMiB: '$.peakMemoryMiB',
} as const;

/** Every job attempt that ended, whatever its outcome: the backlog controller reads the count as the lane's activity. */
export const FINISHED_JOB_PATTERN_FIELDS = { [JOB_LINE_FIELDS.kind]: 'job' } as const;

/** The attempts that threw or failed. */
export const FAILED_JOB_PATTERN_FIELDS = { [JOB_LINE_FIELDS.kind]: 'job', [JOB_LINE_FIELDS.error]: true } as const;

/** `?"a" ?"b"`: any of the exact phrases. */
export function anyPhrase(phrases: readonly string[]): string {
  if (phrases.length === 0) throw new Error('anyPhrase needs at least one phrase');
  for (const phrase of phrases) {
    if (phrase.includes('"') || phrase.trim() !== phrase || phrase === '') {
      throw new Error(`cannot quote ${JSON.stringify(phrase)} in a filter pattern`);
    }
  }
  return phrases.map((p) => `?"${p}"`).join(' ');
}

/** `%regex%`, checked against what CloudWatch's regex patterns allow. */
export function regexPattern(source: string): string {
  if (!/^[A-Za-z0-9:_#=@/;,\-^$?[\]{}|\\*+.]+$/.test(source)) {
    throw new Error(`${JSON.stringify(source)} uses characters a CloudWatch regex filter pattern does not allow`);
  }
  return `%${source}%`;
}

/** `{ $.a.b = "x" && $.c IS TRUE … }`: JSON events whose fields equal the strings, or are the booleans. */
export function jsonEquals(fields: Readonly<Record<string, string | boolean>>): string {
  const terms = Object.entries(fields).map(([path, value]) => {
    if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path) || (typeof value === 'string' && value.includes('"'))) {
      throw new Error(`cannot put ${path} = ${JSON.stringify(value)} in a JSON filter pattern`);
    }
    return typeof value === 'boolean' ? `${path} IS ${value ? 'TRUE' : 'FALSE'}` : `${path} = "${value}"`;
  });
  return `{ ${terms.join(' && ')} }`;
}

/** The Redis connection-error pattern of a lane's worker log group. */
export const REDIS_ERROR_PATTERN = anyPhrase(REDIS_ERROR_PHRASES);
/** The Aurora connection-error pattern of a lane's worker log group. */
export const AURORA_ERROR_PATTERN = anyPhrase(AURORA_ERROR_PHRASES);
/** The failed-job pattern of a lane's worker log group (job lines that threw or failed). */
export const FAILED_JOB_PATTERN = jsonEquals(FAILED_JOB_PATTERN_FIELDS);
/** The finished-job pattern of a lane's worker log group (every job line); also the runtime, memory and attempt figures'. */
export const FINISHED_JOB_PATTERN = jsonEquals(FINISHED_JOB_PATTERN_FIELDS);

/**
 * Whether `message` matches `pattern`, for the three forms above only (any other
 * syntax throws). A local stand-in for `aws logs test-metric-filter`.
 */
export function matchesFilterPattern(pattern: string, message: string): boolean {
  const trimmed = pattern.trim();
  if (trimmed.startsWith('%') && trimmed.endsWith('%') && trimmed.length > 2) {
    return new RegExp(trimmed.slice(1, -1)).test(message);
  }
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      return false;
    }
    return trimmed
      .slice(1, -1)
      .split('&&')
      .every((term) => {
        const m = /^\s*\$((?:\.[A-Za-z0-9_-]+)+)\s*(?:=\s*"([^"]*)"|IS (TRUE|FALSE))\s*$/.exec(term);
        if (!m) throw new Error(`unsupported JSON term ${JSON.stringify(term)}`);
        const value = m[1]
          .slice(1)
          .split('.')
          .reduce<unknown>((obj, key) => (obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined), event);
        return m[3] === undefined ? value === m[2] : value === (m[3] === 'TRUE');
      });
  }
  const phrases: string[] = [];
  const rest = trimmed.replace(/\?"([^"]+)"\s*/g, (_, phrase: string) => {
    phrases.push(phrase);
    return '';
  });
  if (rest !== '' || phrases.length === 0) throw new Error(`unsupported filter pattern ${JSON.stringify(pattern)}`);
  return phrases.some((phrase) => message.includes(phrase));
}
