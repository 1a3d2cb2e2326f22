/*
 * @queue-lanes/simulator: the real backlog controller driven over seeded
 * workloads in virtual time, beside a perfect-foresight schedule, so a policy
 * change is judged on how soon jobs start and what the tasks cost.
 */
export {
  foresight,
  simulate,
  simulatedControllerConfig,
  type Bound,
  type LaneResult,
  type TimelinePoint,
  type SimulationOptions,
  type SimulationResult,
} from './simulate';
export { METRIC_LAG_MINUTES } from './app-autoscaling';
export { random, standardWorkloads, workloadLanes, type JobSpec, type Workload, type WorkloadLane } from './workloads';
export { renderTable } from './table';
export { verdictOf, type Verdict } from './verdict';
export { renderChart } from './chart';
