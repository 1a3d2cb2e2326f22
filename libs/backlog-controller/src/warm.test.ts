import { warmTasks, warmWindows } from './warm';

const at = (iso: string) => new Date(iso);

describe('warm windows', () => {
  // The nightly feed import at 02:00 UTC wants 3 tasks for 30 minutes; reports at 06:00 want 1 for 10.
  const windows = warmWindows({
    warm: [
      { at: '0 2 * * *', tasks: 3, minutes: 30 },
      { at: '0 6 * * *', tasks: 1, minutes: 10 },
    ],
  });

  it('holds from a look-ahead before the time, so the tasks are running when the work comes, until its minutes have passed', () => {
    expect(warmTasks(windows, at('2026-12-05T01:57:30Z'), 120)).toBe(0);
    expect(warmTasks(windows, at('2026-12-05T01:58:00Z'), 120)).toBe(3);
    expect(warmTasks(windows, at('2026-12-05T02:00:00Z'), 120)).toBe(3);
    expect(warmTasks(windows, at('2026-12-05T02:29:59Z'), 120)).toBe(3);
    expect(warmTasks(windows, at('2026-12-05T02:30:00Z'), 120)).toBe(0);
    expect(warmTasks(windows, at('2026-12-05T06:05:00Z'), 120)).toBe(1);
  });

  it('asks for nothing without windows, and the most when windows overlap', () => {
    expect(warmTasks(warmWindows({}), at('2026-12-05T02:00:00Z'), 120)).toBe(0);
    const overlapping = warmWindows({
      warm: [
        { at: '0 2 * * *', tasks: 2, minutes: 60 },
        { at: '30 2 * * *', tasks: 4, minutes: 10 },
      ],
    });
    expect(warmTasks(overlapping, at('2026-12-05T02:35:00Z'), 120)).toBe(4);
    expect(warmTasks(overlapping, at('2026-12-05T02:45:00Z'), 120)).toBe(2);
  });
});
