import { cronProblem, parseCron } from './cron';

const minute = (iso: string) => Date.parse(iso) / 60_000;
const fires = (expression: string, iso: string) => parseCron(expression).matches(minute(iso));

describe('cron expressions as the Laravel scheduler writes them', () => {
  it('fires in the minutes the expression names, in UTC', () => {
    // ->dailyAt('02:00')
    expect(fires('0 2 * * *', '2026-12-05T02:00:00Z')).toBe(true);
    expect(fires('0 2 * * *', '2026-12-05T02:01:00Z')).toBe(false);
    expect(fires('0 2 * * *', '2026-12-05T03:00:00Z')).toBe(false);
    // ->everyFifteenMinutes()->weekdays()->between('8:00', '18:00')
    expect(fires('*/15 8-18 * * MON-FRI', '2026-12-04T17:45:00Z')).toBe(true);
    expect(fires('*/15 8-18 * * MON-FRI', '2026-12-05T17:45:00Z')).toBe(false); // a Saturday
    expect(fires('*/15 8-18 * * 1-5', '2026-12-04T17:50:00Z')).toBe(false);
    expect(fires('5,35 * * * *', '2026-12-05T11:35:00Z')).toBe(true);
    expect(fires('10/20 * * * *', '2026-12-05T11:50:00Z')).toBe(true);
    expect(fires('0 0 1 jan *', '2027-01-01T00:00:00Z')).toBe(true);
  });

  it('takes 0 and 7 as Sunday, and either day when both are restricted', () => {
    expect(fires('0 0 * * 7', '2026-12-06T00:00:00Z')).toBe(true);
    expect(fires('0 0 * * 0', '2026-12-06T00:00:00Z')).toBe(true);
    // The 1st of the month or any Monday.
    expect(fires('0 0 1 * MON', '2026-12-01T00:00:00Z')).toBe(true);
    expect(fires('0 0 1 * MON', '2026-12-07T00:00:00Z')).toBe(true);
    expect(fires('0 0 1 * MON', '2026-12-08T00:00:00Z')).toBe(false);
  });

  it('reads the macros', () => {
    expect(fires('@daily', '2026-12-05T00:00:00Z')).toBe(true);
    expect(fires('@hourly', '2026-12-05T13:00:00Z')).toBe(true);
    expect(fires('@hourly', '2026-12-05T13:30:00Z')).toBe(false);
    expect(fires('@weekly', '2026-12-06T00:00:00Z')).toBe(true);
  });

  it('names the field and what it accepts when it cannot read one', () => {
    expect(cronProblem('0 2 * *')).toMatch(/^has 4 fields; a cron expression has five fields, minute hour/);
    expect(cronProblem('61 2 * * *')).toBe('minute "61" is outside 0-59');
    expect(cronProblem('0 2 L * *')).toMatch(
      /^day of month "L" is not a cron field: use \*, values 1-31, .*\(L, W, # and \? are not supported\)$/,
    );
    expect(cronProblem('0 2 * * MON#2')).toMatch(/^day of week "MON#2" is not a cron field: use \*, values 0-7 or SUN-SAT/);
    expect(cronProblem('0 20-8 * * *')).toBe('hour "20-8" runs backwards; write the smaller value first');
    expect(cronProblem('*/0 * * * *')).toMatch(/^minute "\*\/0" is not a cron field/);
    expect(cronProblem('0 2 * * *')).toBeUndefined();
  });
});
