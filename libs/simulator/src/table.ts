import type { SimulationResult } from './simulate';

/**
 * One Markdown row per workload and lane: whether its jobs started within maxPickupSeconds
 * (wait p95 as a multiple of it) and, for a miss, the likely lever; then the controller's
 * figures, and task-minutes as a ratio to the bound.
 */
export function renderTable(results: readonly SimulationResult[]): string {
  const head = [
    '| workload | lane | wait p95 ÷ maxPickupSeconds | jobs | wait p50 / p95 / max s | bound p95 s | first task s | task-min | bound task-min | ratio | scale events | wakes | longest at zero with work s | stuck | killed | likely lever (a miss) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const rows = results.flatMap((r) =>
    r.lanes.map((l) => {
      const bound = r.bound[l.lane];
      const ratio = bound.taskMinutes > 0 ? (l.taskMinutes / bound.taskMinutes).toFixed(1) : '–';
      const verdict = r.verdicts[l.lane];
      const pickup = verdict.pickupRatio === undefined ? '–' : `${verdict.meets ? 'meets' : 'misses'}, ${verdict.pickupRatio.toFixed(1)}×`;
      return `| ${r.workload} | ${l.lane} | ${pickup} | ${l.jobs} | ${l.wait.p50} / ${l.wait.p95} / ${l.wait.max} | ${bound.waitP95} | ${l.firstTask ?? '–'} | ${l.taskMinutes} | ${bound.taskMinutes} | ${ratio} | ${l.scaleEvents} | ${l.wakes} | ${l.longestZeroWithWork} | ${l.stuck} | ${l.killed} | ${verdict.lever ?? ''} |`;
    }),
  );
  // Where a lane's jobs went to more than one queue (process groups), each queue's wait on its own.
  const split = results.flatMap((r) =>
    r.lanes
      .filter((l) => Object.keys(l.queueWait).length > 1)
      .flatMap((l) =>
        Object.entries(l.queueWait).map(([queue, w]) => `| ${r.workload} | ${l.lane} | ${queue} | ${w.p50} / ${w.p95} / ${w.max} |`),
      ),
  );
  const queues = split.length ? ['', '| workload | lane | queue | wait p50 / p95 / max s |', '| --- | --- | --- | ---: |', ...split] : [];
  return [...head, ...rows, ...queues].join('\n');
}
