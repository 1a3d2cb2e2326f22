/*
 * Cron expressions as the Laravel scheduler writes them (->cron('0 2 * * *'),
 * ->dailyAt('02:00'), ->hourly(): dragonmantank/cron-expression underneath), read
 * once: the environment file's schema checks a lane's warm windows with it, and the
 * backlog controller, which imports this file by its own path and nothing else of
 * libs/config, matches them each tick. Five fields, evaluated in UTC:
 *
 *   minute (0-59)  hour (0-23)  day of month (1-31)  month (1-12, JAN-DEC)  day of week (0-7, SUN-SAT; 0 and 7 are Sunday)
 *
 * Each field is `*` or a list of values and ranges, each optionally `/step`. As in
 * cron, when both days are restricted a day matching either one fires. The macros
 * @hourly @daily @weekly @monthly @yearly (@annually, @midnight) stand for their
 * expressions. The scheduler's L, W, # and ? are refused, named.
 */

/** A parsed expression: the minutes (UTC) it fires in. */
export interface CronSchedule {
  readonly expression: string;
  /** Whether it fires in the minute starting at `unixMinute` × 60 s, UTC. */
  matches(unixMinute: number): boolean;
}

/** What the five fields accept, in the words an error uses. */
export const CRON_SYNTAX =
  'five fields, minute hour day-of-month month day-of-week (UTC), each * or values and ranges with an optional /step, like "0 2 * * *" or "*/15 8-18 * * MON-FRI"; or @hourly, @daily, @weekly, @monthly, @yearly';

const MACROS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** A field that cannot be read: the expression's problem, in words. */
export class CronError extends Error {}

/** Parses an expression; throws CronError naming the field and what it accepts. */
export function parseCron(expression: string): CronSchedule {
  const text = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== FIELDS.length)
    throw new CronError(`has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron expression has ${CRON_SYNTAX}`);
  const [minutes, hours, days, months, weekdays] = parts.map((part, i) => parseField(part, FIELDS[i]));
  // Sunday is 0 and 7.
  if (weekdays.values.has(7)) weekdays.values.add(0);
  return {
    expression,
    matches(unixMinute: number): boolean {
      const at = new Date(unixMinute * 60_000);
      if (!minutes.values.has(at.getUTCMinutes()) || !hours.values.has(at.getUTCHours()) || !months.values.has(at.getUTCMonth() + 1)) {
        return false;
      }
      const day = days.values.has(at.getUTCDate());
      const weekday = weekdays.values.has(at.getUTCDay());
      if (days.any || weekdays.any) return day && weekday;
      return day || weekday;
    },
  };
}

/** The expression's problem, or undefined when it parses. */
export function cronProblem(expression: string): string | undefined {
  try {
    parseCron(expression);
    return undefined;
  } catch (error) {
    if (error instanceof CronError) return error.message;
    throw error;
  }
}

function parseField(part: string, spec: FieldSpec): { values: Set<number>; any: boolean } {
  const values = new Set<number>();
  for (const item of part.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === '') throw fieldError(spec, part);
    const step = stepText === undefined ? 1 : integer(stepText, spec, part);
    if (step < 1) throw fieldError(spec, part);
    const [from, to] = range === '*' ? [spec.min, spec.max] : bounds(range, spec, part, stepText !== undefined);
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return { values, any: part === '*' };
}

/** A range's first and last value; a single value with a step runs to the field's end, as in cron. */
function bounds(range: string, spec: FieldSpec, part: string, stepped: boolean): [number, number] {
  const [a, b, extra] = range.split('-');
  if (extra !== undefined) throw fieldError(spec, part);
  const from = value(a, spec, part);
  const to = b === undefined ? (stepped ? spec.max : from) : value(b, spec, part);
  if (to < from) throw new CronError(`${spec.name} "${part}" runs backwards; write the smaller value first`);
  return [from, to];
}

function value(text: string, spec: FieldSpec, part: string): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const number = named >= 0 ? named + (spec.name === 'month' ? 1 : 0) : integer(text, spec, part);
  if (number < spec.min || number > spec.max) throw new CronError(`${spec.name} "${part}" is outside ${spec.min}-${spec.max}`);
  return number;
}

function integer(text: string, spec: FieldSpec, part: string): number {
  if (!/^\d+$/.test(text)) throw fieldError(spec, part);
  return Number(text);
}

function fieldError(spec: FieldSpec, part: string): CronError {
  const names = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : '';
  return new CronError(
    `${spec.name} "${part}" is not a cron field: use *, values ${spec.min}-${spec.max}${names}, ranges a-b and steps /n, separated by commas (L, W, # and ? are not supported)`,
  );
}
