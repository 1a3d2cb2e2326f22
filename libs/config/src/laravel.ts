/*
 * What a Laravel application derives on its own, for the advice the rules give.
 * The controller never derives the key prefix: the skeleton changed its default
 * inside 12.x, so a derived guess reads empty queues for half the applications
 * (libs/config rules, "the key prefix").
 *
 * laravel/laravel config/database.php, `redis.options.prefix`:
 * - before v12.1.0: env('REDIS_PREFIX', Str::slug(env('APP_NAME', 'laravel'), '_').'_database_')
 * - from v12.1.0 (commit 9a177b0, PR #6636, "Change to hyphenate prefixes and cookie
 *   names"), and in every 13.x skeleton:
 *   env('REDIS_PREFIX', Str::slug((string) env('APP_NAME', 'laravel')).'-database-')
 * Horizon does not change it: its `horizon.prefix` applies to its own `horizon`
 * connection (laravel/horizon src/Horizon.php, Horizon::use), while its queues go
 * through the queue connection (src/Connectors/RedisConnector.php), so they sit
 * under this prefix too.
 */

/** The artisan command that prints the prefix the application really uses. */
export const PRINT_PREFIX_COMMAND = `php artisan tinker --execute="echo config('database.redis.options.prefix');"`;

/** The prefix each stock config/database.php derives from `appName` when REDIS_PREFIX is unset. */
export interface DerivedPrefixes {
  /** laravel/laravel before v12.1.0: `Str::slug(APP_NAME, '_').'_database_'`. */
  readonly beforeV12_1: string;
  /** laravel/laravel v12.1.0 and later: `Str::slug(APP_NAME).'-database-'`. */
  readonly sinceV12_1: string;
}

/**
 * Both candidates for `appName`, or undefined when the name has characters
 * outside printable ASCII: Str::slug first runs them through Str::ascii
 * (voku/portable-ascii, language 'en'), whose tables (ß → ss, Ø → O, Cyrillic,
 * CJK, €) are not reproduced here, so only the application can say.
 */
export function derivedPrefixes(appName: string): DerivedPrefixes | undefined {
  if (!/^[\x20-\x7e]*$/.test(appName)) return undefined;
  return { beforeV12_1: `${strSlug(appName, '_')}_database_`, sinceV12_1: `${strSlug(appName, '-')}-database-` };
}

/** Laravel's Str::slug for printable-ASCII input (language 'en', dictionary {'@': 'at'}). */
export function strSlug(title: string, separator: '-' | '_' = '-'): string {
  const sep = separator === '-' ? '\\-' : '_';
  const flip = separator === '-' ? '_' : '\\-';
  let out = title.replace(new RegExp(`[${flip}]+`, 'g'), separator);
  out = out.split('@').join(`${separator}at${separator}`);
  out = out.toLowerCase().replace(new RegExp(`[^${sep}a-z0-9\\s]+`, 'g'), '');
  out = out.replace(new RegExp(`[${sep}\\s]+`, 'g'), separator);
  let start = 0;
  let end = out.length;
  while (start < end && out[start] === separator) start += 1;
  while (end > start && out[end - 1] === separator) end -= 1;
  return out.slice(start, end);
}

/**
 * Laravel log channels (config/logging.php) that write to a file inside the
 * container: nothing ships those lines to CloudWatch, so the lanes' log metric
 * filters (Redis and Aurora errors, failed jobs) would never see them.
 */
export const FILE_LOG_CHANNELS: readonly string[] = ['single', 'daily'];
