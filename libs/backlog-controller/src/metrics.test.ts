import { MAX_CONTROLLER_LANES, METRIC } from '@queue-lanes/contract';
import { attemptsQuery, drainHistories, historyQuery, recentAttempts, tickMetricData } from './metrics';
import type { LaneReading } from './redis';

const at = new Date('2026-11-22T10:15:30Z');
const reading = (lane: string, oldestReadyAgeSeconds: number | undefined): LaneReading => ({
  lane,
  ready: 3,
  reserved: 1,
  delayed: 5,
  delayedDue: 2,
  stuckReserved: 0,
  oldestReadyAgeSeconds,
  oldestRunnableAgeSeconds: oldestReadyAgeSeconds === undefined ? undefined : oldestReadyAgeSeconds + 10,
  absent: false,
  queues: [],
});

describe('tick metrics', () => {
  it('publishes nine metrics per lane and ControllerErrors', () => {
    const data = tickMetricData('production', [reading('image', 42)], false, at, (lane) => lane === 'image');
    expect(data.map((d) => [d.MetricName, d.Value, d.Unit])).toEqual([
      ['Ready', 3, 'Count'],
      ['Reserved', 1, 'Count'],
      ['Delayed', 5, 'Count'],
      ['DelayedDue', 2, 'Count'],
      ['Backlog', 6, 'Count'],
      ['OldestReadyAgeSeconds', 42, 'Seconds'],
      ['OldestRunnableAgeSeconds', 52, 'Seconds'],
      ['StuckReserved', 0, 'Count'],
      ['KeysUnderOtherPrefix', 1, 'Count'],
      ['ControllerErrors', 0, 'Count'],
    ]);
    expect(data[0].Dimensions).toEqual([
      { Name: 'Environment', Value: 'production' },
      { Name: 'Lane', Value: 'image' },
    ]);
    expect(data[9].Dimensions).toEqual([{ Name: 'Environment', Value: 'production' }]);
    expect(data.every((d) => d.Timestamp === at)).toBe(true);
  });

  it('leaves out an unknown age rather than inventing one', () => {
    const names = tickMetricData('production', [reading('image', undefined)], false, at).map((d) => d.MetricName);
    expect(names).not.toContain(METRIC.oldestReadyAgeSeconds);
    expect(names).not.toContain(METRIC.oldestRunnableAgeSeconds);
  });

  it('reports a failed tick with ControllerErrors 1, with or without lane readings', () => {
    expect(tickMetricData('production', undefined, true, at)).toEqual([
      expect.objectContaining({ MetricName: 'ControllerErrors', Value: 1 }),
    ]);
  });

  it('fits MAX_CONTROLLER_LANES lanes in one PutMetricData (at most 1,000 metrics)', () => {
    const lanes = Array.from({ length: MAX_CONTROLLER_LANES }, (_, i) => reading(`l${i}`, 1));
    expect(tickMetricData('production', lanes, false, at).length).toBeLessThanOrEqual(1000);
  });
});

describe('drain history', () => {
  const lanes = [
    { lane: 'image', drainMinutes: 3 },
    { lane: 'bulk', drainMinutes: 5 },
  ];

  it('asks for the per-minute maximum of Backlog and Delayed over the longest window, up to now', () => {
    const query = historyQuery('QueueLanes', 'production', lanes, at);
    expect(query.startTime.toISOString()).toBe('2026-11-22T10:10:00.000Z');
    expect(query.endTime).toBe(at);
    expect(query.queries.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period])).toEqual([
      ['b0', 'Backlog', 'Maximum', 60],
      ['d0', 'Delayed', 'Maximum', 60],
      ['b1', 'Backlog', 'Maximum', 60],
      ['d1', 'Delayed', 'Maximum', 60],
    ]);
  });

  it("cuts each lane's series to its own window and counts the minutes with data", () => {
    const minute = (m: number) => new Date(`2026-11-22T10:${String(m).padStart(2, '0')}:00Z`);
    const histories = drainHistories(
      lanes,
      [
        { Id: 'b0', Timestamps: [minute(14), minute(13), minute(12), minute(11)], Values: [0, 0, 0, 9], StatusCode: 'Complete' },
        { Id: 'd0', Timestamps: [minute(14), minute(13), minute(12)], Values: [0, 0, 0], StatusCode: 'Complete' },
        { Id: 'b1', Timestamps: [minute(14), minute(12)], Values: [0, 0], StatusCode: 'Complete' },
        { Id: 'd1', Timestamps: [minute(14), minute(12)], Values: [0, 4], StatusCode: 'Complete' },
      ],
      at,
    );
    expect(histories.get('image')).toEqual({ minutesWithData: 3, maxBacklog: 0, maxDelayed: 0 });
    expect(histories.get('bulk')).toEqual({ minutesWithData: 2, maxBacklog: 0, maxDelayed: 4 });
  });

  it("reads the lane's finished jobs too, and counts the runs of active minutes and the idle minutes since", () => {
    const finishedJobs = { namespace: 'QueueLanes/propertyfeed-production/image', name: 'FinishedJobs' };
    const lane = [{ lane: 'image', drainMinutes: 5, finishedJobs }];
    const query = historyQuery('QueueLanes', 'production', lane, at);
    expect(query.queries.map((q) => [q.Id, q.MetricStat?.Metric?.Namespace, q.MetricStat?.Metric?.MetricName])).toEqual([
      ['b0', 'QueueLanes', 'Backlog'],
      ['d0', 'QueueLanes', 'Delayed'],
      ['f0', finishedJobs.namespace, 'FinishedJobs'],
    ]);
    const minute = (m: number) => new Date(`2026-11-22T10:${String(m).padStart(2, '0')}:00Z`);
    const minutes = [10, 11, 12, 13, 14].map(minute);
    const series = (Id: string, Values: number[]) => ({ Id, Timestamps: minutes, Values, StatusCode: 'Complete' as const });
    // Backlog seen at 10:10, jobs finished between ticks at 10:11: one run, then three idle minutes.
    expect(
      drainHistories(lane, [series('b0', [2, 0, 0, 0, 0]), series('d0', [0, 0, 0, 0, 0]), series('f0', [0, 1, 0, 0, 0])], at).get('image'),
    ).toEqual({
      minutesWithData: 5,
      maxBacklog: 2,
      maxDelayed: 0,
      maxFinished: 1,
      activeRuns: 1,
      idleMinutes: 3,
      idleGaps: [],
      // Two jobs were waiting at 10:10 and one finished: none arrived while it ran.
      arrivals: 0,
    });
    // A job finished again at 10:13: two runs, the jobs come within the window.
    expect(
      drainHistories(lane, [series('b0', [2, 0, 0, 0, 0]), series('d0', [0, 0, 0, 0, 0]), series('f0', [0, 0, 0, 1, 0])], at).get('image'),
    ).toMatchObject({
      activeRuns: 2,
      idleMinutes: 1,
      idleGaps: [2],
    });
    // Idle at the window's start, then jobs finishing faster than the backlog at the run's start: they arrived while it ran.
    expect(
      drainHistories(lane, [series('b0', [0, 1, 0, 0, 0]), series('d0', [0, 0, 0, 0, 0]), series('f0', [0, 1, 2, 2, 0])], at).get('image'),
    ).toMatchObject({ activeRuns: 1, leadingIdle: 1, idleGaps: [], idleMinutes: 1, arrivals: 3, maxFinished: 2 });
  });

  it('counts the finished jobs of a minute (Sum), not whether there were any', () => {
    const lane = [{ lane: 'image', drainMinutes: 5, finishedJobs: { namespace: 'N', name: 'FinishedJobs' } }];
    const stats = historyQuery('QueueLanes', 'production', lane, at).queries.map((q) => [q.Id, q.MetricStat?.Stat]);
    expect(stats).toEqual([
      ['b0', 'Maximum'],
      ['d0', 'Maximum'],
      ['f0', 'Sum'],
    ]);
  });

  it('has no minutes for a lane CloudWatch knows nothing about', () => {
    expect(drainHistories(lanes, [], at).get('image')).toEqual({ minutesWithData: 0, maxBacklog: 0, maxDelayed: 0 });
  });

  it('refuses results CloudWatch could not compute', () => {
    expect(() => drainHistories(lanes, [{ Id: 'b0', StatusCode: 'InternalError' }], at)).toThrow(
      'GetMetricData could not answer b0: InternalError',
    );
  });
});

describe('recent attempts', () => {
  const lanes = [
    {
      lane: 'image',
      finishedJobs: { namespace: 'QueueLanes/p/image', name: 'FinishedJobs' },
      failedJobs: { namespace: 'QueueLanes/p/image', name: 'FailedJobs' },
    },
  ];

  it('sums finished and failed attempts per minute over the last five whole minutes', () => {
    const query = attemptsQuery(lanes, at);
    expect(query.startTime).toEqual(new Date('2026-11-22T10:10:00Z'));
    expect(query.endTime).toBe(at);
    expect(query.queries.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period])).toEqual([
      ['n0', 'FinishedJobs', 'Sum', 60],
      ['x0', 'FailedJobs', 'Sum', 60],
    ]);
  });

  it('adds up every page, and refuses an answer CloudWatch could not give', () => {
    const results = [
      { Id: 'n0', StatusCode: 'Complete' as const, Values: [10, 12], Timestamps: [at, at] },
      { Id: 'x0', StatusCode: 'PartialData' as const, Values: [9], Timestamps: [at] },
      { Id: 'x0', StatusCode: 'Complete' as const, Values: [11], Timestamps: [at] },
    ];
    expect(recentAttempts(lanes, results).get('image')).toEqual({ finished: 22, failed: 20 });
    expect(() => recentAttempts(lanes, [{ Id: 'n0', StatusCode: 'Forbidden' as const }])).toThrow(
      'GetMetricData could not answer n0: Forbidden',
    );
  });
});
