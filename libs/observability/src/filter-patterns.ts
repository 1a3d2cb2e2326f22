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
 * - `{ $.a.b = "x" }`: a JSON event whose field equals the string.
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
 * Job lines as `php artisan queue:work` prints them without a terminal, in the two forms
 * Laravel has used (laravel/framework src/Illuminate/Queue/Console/WorkCommand.php):
 * - Laravel 8 to 9.40 (writeStatus): `[2025-01-31 12:00:01][<job id>] Processing: App\Jobs\X`,
 *   then `Processed:` or `Failed:`. Failed is printed for a job that failed for good only
 *   (JobFailed); an attempt released for a retry prints nothing after Processing.
 * - Laravel 9.41 to 13 (writeOutputForCli): `  2025-01-31 12:00:01 App\Jobs\X .... RUNNING`,
 *   then the same line ending in the run time (`12.34ms`, `1s`, `2m 3s`; with -v also the
 *   memory, `12.5MB`) and DONE, or FAIL for both a released attempt and a job that failed
 *   for good.
 * The worker harness (tools/worker-harness) feeds Laravel 8's real output through these;
 * the 9.41+ lines are as the source above writes them (v9.41.0, v12.0.0, v13.26.1).
 * `--json` output (Laravel 12.x) is not matched.
 */

/** The start of a Laravel 8 to 9.40 job line, up to the status word. */
const LEGACY_JOB_LINE = '^\\[[0-9-]+.[0-9:]+\\]\\[[^\\]]*\\].';

/** A failed job (Laravel 8 to 9.40: failed for good) or attempt (9.41 and later: released or failed). */
export const FAILED_JOB_REGEX = `[0-9][A-Za-z]+.FAIL$|${LEGACY_JOB_LINE}Failed:`;

/**
 * A finished job attempt, done or failed (RUNNING and Processing lines never match). The
 * backlog controller reads the count as the lane's activity, so a short job between two
 * of its ticks still counts.
 */
export const FINISHED_JOB_REGEX = `[0-9][A-Za-z]+.DONE$|${FAILED_JOB_REGEX}|${LEGACY_JOB_LINE}Processed:`;

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

/** `{ $.a.b = "x" && … }`: JSON events whose string fields equal the values. */
export function jsonEquals(fields: Readonly<Record<string, string>>): string {
  const terms = Object.entries(fields).map(([path, value]) => {
    if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path) || value.includes('"')) {
      throw new Error(`cannot put ${path} = ${JSON.stringify(value)} in a JSON filter pattern`);
    }
    return `${path} = "${value}"`;
  });
  return `{ ${terms.join(' && ')} }`;
}

/** The Redis connection-error pattern of a lane's worker log group. */
export const REDIS_ERROR_PATTERN = anyPhrase(REDIS_ERROR_PHRASES);
/** The Aurora connection-error pattern of a lane's worker log group. */
export const AURORA_ERROR_PATTERN = anyPhrase(AURORA_ERROR_PHRASES);
/** The failed-job pattern of a lane's worker log group. */
export const FAILED_JOB_PATTERN = regexPattern(FAILED_JOB_REGEX);
/** The finished-job pattern of a lane's worker log group. */
export const FINISHED_JOB_PATTERN = regexPattern(FINISHED_JOB_REGEX);

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
        const m = /^\s*\$((?:\.[A-Za-z0-9_-]+)+)\s*=\s*"([^"]*)"\s*$/.exec(term);
        if (!m) throw new Error(`unsupported JSON term ${JSON.stringify(term)}`);
        const value = m[1]
          .slice(1)
          .split('.')
          .reduce<unknown>((obj, key) => (obj && typeof obj === 'object' ? (obj as Record<string, unknown>)[key] : undefined), event);
        return value === m[2];
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
