import type { JobSettings, LaneConfig, ProcessGroup } from '@queue-lanes/config';
import type { MetricLine, MetricOptions, QueueSignals } from '@queue-lanes/brokers';
import { DIMENSION, LOG_METRIC, METRIC } from '@queue-lanes/contract';
import { alarmTopicName, isScaled } from '@queue-lanes/config';
import { CONNECTION_ERROR_MINUTES, type AlarmThresholds } from './thresholds';

/*
 * The dashboard body (CloudWatch's dashboard JSON), built from plain objects in a
 * fixed order and serialized with JSON.stringify, so the same environment always
 * gives byte-identical JSON. The grid is 24 units wide.
 */

export interface Annotation {
  readonly label: string;
  readonly value: number;
}

export interface MetricWidgetProperties {
  readonly title: string;
  readonly region: string;
  readonly view: 'timeSeries';
  readonly stacked: boolean;
  readonly period: number;
  readonly stat: string;
  readonly metrics: readonly MetricLine[];
  readonly yAxis: { readonly left: { readonly min: number; readonly max?: number } };
  readonly annotations?: { readonly horizontal: readonly Annotation[] };
}

interface Placed {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type Widget =
  | (Placed & { readonly type: 'text'; readonly properties: { readonly markdown: string } })
  | (Placed & { readonly type: 'alarm'; readonly properties: { readonly title: string; readonly alarms: readonly string[] } })
  | (Placed & { readonly type: 'metric'; readonly properties: MetricWidgetProperties });

export interface DashboardBody {
  readonly widgets: readonly Widget[];
}

/** What a lane's row reads of the lane (libs/config's resolved lane, narrowed). */
export interface DashboardLaneConfig extends Pick<LaneConfig, 'name' | 'broker' | 'stage' | 'queues' | 'grouped' | 'tasks' | 'warm'> {
  /** The lane's job settings: the job row's limits. */
  readonly job: Pick<JobSettings, 'timeout' | 'memory'>;
  /** Its process groups (the first one's memory_limit is the job row's). */
  readonly groups: readonly Pick<ProcessGroup, 'name' | 'queues' | 'processes' | 'phpMemoryLimit'>[];
}

/** One active lane's row. */
export interface DashboardLane {
  readonly lane: DashboardLaneConfig;
  readonly thresholds: AlarmThresholds;
  /** `<app>-<lane>` in the cluster. */
  readonly serviceName: string;
  /** The lane's worker log group (may be a token). */
  readonly logGroupName: string;
  /** Namespace of the lane's log-derived metrics. */
  readonly logNamespace: string;
  /** How the lane's broker watches its queue: whether it is measured, and its graph lines. */
  readonly queue: QueueSignals;
}

export interface DashboardInput {
  /** The environment's names (the heading) and region (every graph's). */
  readonly env: { readonly app: string; readonly environment: string; readonly region: string };
  /** The controller's namespace. */
  readonly namespace: string;
  readonly clusterName: string;
  /** Every lane, in the environment's lane order. */
  readonly lanes: readonly DashboardLane[];
  /** The backlog controller; its row is left out without one. */
  readonly controllerFunctionName?: string;
  /** Every alarm's ARN, shown as status widgets at the top. */
  readonly alarmArns: readonly string[];
}

const WIDTH = 24;
const GRAPH_HEIGHT = 6;
/** CloudWatch's alarm status widget lists at most 100 alarms. */
const ALARMS_PER_WIDGET = 100;

/** The whole dashboard: a header, alarm status, a row per active lane, and the controller's row. */
export function dashboardBody(input: DashboardInput): DashboardBody {
  const { env } = input;
  const widgets: Widget[] = [];
  const heading = [
    `# ${env.app} ${env.environment}: queue lanes`,
    `One row per lane (a lane at stage off runs no task and its alarms are quiet)${input.controllerFunctionName ? ', then the backlog controller' : ''}. Every alarm notifies the SNS topic ${alarmTopicName(env)}; each alarm's description says what to check first.`,
  ];
  widgets.push(textWidget(0, 2, heading.join('\n\n')));
  let y = 2;
  for (let i = 0; i < input.alarmArns.length; i += ALARMS_PER_WIDGET) {
    const part = Math.floor(i / ALARMS_PER_WIDGET) + 1;
    const parts = Math.ceil(input.alarmArns.length / ALARMS_PER_WIDGET);
    widgets.push({
      type: 'alarm',
      x: 0,
      y,
      width: WIDTH,
      height: 3,
      properties: {
        title: parts > 1 ? `Alarms (${part}/${parts})` : 'Alarms',
        alarms: input.alarmArns.slice(i, i + ALARMS_PER_WIDGET),
      },
    });
    y += 3;
  }
  for (const row of input.lanes) {
    y = laneRow(input, row, y, widgets);
    y = jobRow(input, row, y, widgets);
  }
  if (input.controllerFunctionName) controllerRow(input, input.controllerFunctionName, y, widgets);
  return { widgets };
}

/** `queues sync, bulk`, or per process group `groups urgent ×1 (sync-urgent), main ×3 (sync-urgent, sync)`. */
export function laneProcesses(lane: Pick<DashboardLaneConfig, 'queues' | 'groups' | 'grouped'>): string {
  if (!lane.grouped) return `queues ${lane.queues.join(', ')}`;
  return `groups ${lane.groups.map((g) => `${g.name} ×${g.processes} (${g.queues.join(', ')})`).join(', ')}`;
}

/** A text widget across the whole width. */
function textWidget(y: number, height: number, markdown: string): Widget {
  return { type: 'text', x: 0, y, width: WIDTH, height, properties: { markdown } };
}

/** What one graph shows; where it goes and the region are the row's. */
type GraphSpec = Omit<MetricWidgetProperties, 'region' | 'view' | 'stacked'>;

/** A row's graphs side by side, each `width` wide, under its one-line heading at `top`; returns the next row's top. */
function graphRow(
  input: DashboardInput,
  top: number,
  heading: string,
  width: number,
  graphs: readonly GraphSpec[],
  widgets: Widget[],
): number {
  widgets.push(textWidget(top, 1, heading));
  const y = top + 1;
  widgets.push(
    ...graphs.map((properties, i): Widget => ({
      type: 'metric',
      x: i * width,
      y,
      width,
      height: GRAPH_HEIGHT,
      properties: { region: input.env.region, view: 'timeSeries', stacked: false, ...properties },
    })),
  );
  return y + GRAPH_HEIGHT;
}

/** One horizontal annotation line on a graph. */
function threshold(label: string, value: number): { horizontal: Annotation[] } {
  return { horizontal: [{ label, value }] };
}

/** A lane's heading (broker, processes, stage, service, logs) and six graphs: its queue, its tasks, its log-derived metrics. */
function laneRow(input: DashboardInput, row: DashboardLane, top: number, widgets: Widget[]): number {
  const { lane } = row;
  const heading = `## ${lane.name} · ${lane.broker} · ${laneProcesses(lane)} · stage ${lane.stage} (${laneTasks(lane)})${warmHeading(lane)} · service ${row.serviceName} · logs ${row.logGroupName}`;
  return graphRow(input, top, heading, 4, [...queueGraphs(row), ...serviceGraphs(input, row), ...logGraphs(row)], widgets);
}

/**
 * Right-sizing: the lane's job runtime (p50, p95, max) against job.timeout, and its peak job
 * memory (p95, max) against job.memory and PHP's memory_limit, from the workers' job lines.
 * `nx run <env>:status` names the lanes whose limits are too close or far above.
 */
function jobRow(input: DashboardInput, row: DashboardLane, top: number, widgets: Widget[]): number {
  const { lane } = row;
  const memoryLimit = lane.groups[0].phpMemoryLimit;
  const heading = `### ${lane.name} jobs · job.timeout ${lane.job.timeout} s · job.memory ${lane.job.memory} MiB · memory_limit ${memoryLimit} MiB`;
  const figure = (name: string, label: string, stat: string): MetricLine => [row.logNamespace, name, { label, stat }];
  return graphRow(
    input,
    top,
    heading,
    12,
    [
      {
        title: `${lane.name}: job runtime, s`,
        period: 300,
        stat: 'Maximum',
        metrics: [
          figure(LOG_METRIC.jobRuntime, 'p50', 'p50'),
          figure(LOG_METRIC.jobRuntime, 'p95', 'p95'),
          figure(LOG_METRIC.jobRuntime, 'max', 'Maximum'),
        ],
        yAxis: { left: { min: 0 } },
        annotations: { horizontal: [{ label: 'job.timeout', value: lane.job.timeout }] },
      },
      {
        title: `${lane.name}: peak job memory, MiB`,
        period: 300,
        stat: 'Maximum',
        metrics: [figure(LOG_METRIC.jobPeakMemory, 'p95', 'p95'), figure(LOG_METRIC.jobPeakMemory, 'max', 'Maximum')],
        yAxis: { left: { min: 0 } },
        annotations: {
          horizontal: [
            { label: 'job.memory (--memory)', value: lane.job.memory },
            { label: 'PHP memory_limit', value: memoryLimit },
          ],
        },
      },
    ],
    widgets,
  );
}

/** The lane's warm windows, when the controller keeps them (a scaled lane): ` · warm 0 2 * * * UTC: 2 tasks for 30 min`. */
function warmHeading(lane: DashboardLaneConfig): string {
  if (lane.warm === undefined || !isScaled(lane)) return '';
  const windows = lane.warm.map((w) => `\`${w.at}\` UTC: ${w.tasks} task${w.tasks === 1 ? '' : 's'} for ${w.minutes} min`);
  return ` · warm ${windows.join(', ')}`;
}

/** `0 tasks, alarms quiet` at stage off, the range a scaled lane moves in, or the fixed count. */
function laneTasks(lane: DashboardLaneConfig): string {
  if (lane.stage === 'off') return '0 tasks, alarms quiet';
  if (isScaled(lane)) return `${lane.tasks.min}–${lane.tasks.max} tasks`;
  return `${lane.tasks.baseline} task${lane.tasks.baseline === 1 ? '' : 's'}`;
}

/** The backlog and the oldest job, as the lane's broker measures them. */
function queueGraphs(row: DashboardLane): GraphSpec[] {
  const { lane, thresholds: t, queue } = row;
  // Without a controller (no Redis lane past off) nothing measures a Redis lane.
  const measured = queue.measured ? '' : ' (not measured at this stage)';
  return [
    {
      title: `${lane.name}: backlog${measured}`,
      period: 60,
      stat: 'Maximum',
      metrics: queue.dashboard.backlog,
      yAxis: { left: { min: 0 } },
      annotations: threshold('backlog alarm', t.backlog),
    },
    {
      title: `${lane.name}: oldest ${queue.dashboard.oldestNoun}, s${measured}`,
      period: 60,
      stat: 'Maximum',
      metrics: queue.dashboard.age,
      yAxis: { left: { min: 0 } },
      annotations: threshold('oldest-job alarm', t.oldestJobSeconds),
    },
  ];
}

/** The lane service's task counts against its ceiling, and its CPU and memory. */
function serviceGraphs(input: DashboardInput, row: DashboardLane): GraphSpec[] {
  const { lane } = row;
  const scaled = isScaled(lane);
  const service: [string, string, string, string] = ['ClusterName', input.clusterName, 'ServiceName', row.serviceName];
  return [
    {
      title: `${lane.name}: desired vs running tasks`,
      period: 60,
      stat: 'Maximum',
      metrics: [
        ['ECS/ContainerInsights', 'DesiredTaskCount', ...service, { label: 'desired' }],
        ['ECS/ContainerInsights', 'PendingTaskCount', ...service, { label: 'pending (starting)' }],
        ['ECS/ContainerInsights', 'RunningTaskCount', ...service, { label: 'running' }],
      ],
      yAxis: { left: { min: 0 } },
      annotations: threshold(scaled ? 'tasks.max' : 'tasks.baseline', scaled ? lane.tasks.max : lane.tasks.baseline),
    },
    {
      title: `${lane.name}: CPU and memory, %`,
      period: 60,
      stat: 'Average',
      metrics: [
        ['AWS/ECS', 'CPUUtilization', ...service, { label: 'CPU' }],
        ['AWS/ECS', 'MemoryUtilization', ...service, { label: 'memory' }],
      ],
      yAxis: { left: { min: 0, max: 100 } },
    },
  ];
}

/** What the lane's log filters count: restarts and connection errors, and failed attempts (with the broker's own failure lines). */
function logGraphs(row: DashboardLane): GraphSpec[] {
  const { lane, thresholds: t } = row;
  const failed: MetricLine[] = [
    [row.logNamespace, LOG_METRIC.failedJobs, { label: 'failed attempts', stat: 'Sum' }],
    ...row.queue.dashboard.failed,
  ];
  return [
    {
      title: `${lane.name}: restarts and connection errors per ${CONNECTION_ERROR_MINUTES} min`,
      period: CONNECTION_ERROR_MINUTES * 60,
      stat: 'Sum',
      metrics: [
        [row.logNamespace, LOG_METRIC.stoppedTasks, { label: 'tasks stopped on their own' }],
        [row.logNamespace, LOG_METRIC.redisErrors, { label: 'Redis connection errors' }],
        [row.logNamespace, LOG_METRIC.auroraErrors, { label: 'Aurora connection errors' }],
      ],
      yAxis: { left: { min: 0 } },
      annotations: threshold('connection-errors alarm', t.connectionErrors),
    },
    {
      title: `${lane.name}: failed job attempts per min`,
      period: 60,
      stat: 'Sum',
      metrics: failed,
      yAxis: { left: { min: 0 } },
      annotations: threshold('failed-jobs alarm', t.failedJobsPerMinute),
    },
  ];
}

/** The controller's errors, invocations and duration, from Lambda and its own ControllerErrors. */
function controllerRow(input: DashboardInput, fn: string, top: number, widgets: Widget[]): void {
  const { env } = input;
  const lambda = (name: string, options: MetricOptions): MetricLine => ['AWS/Lambda', name, 'FunctionName', fn, options];
  graphRow(
    input,
    top,
    `## backlog controller · ${fn} · every minute · logs /aws/lambda/${fn}`,
    8,
    [
      {
        title: 'controller: errors per min',
        period: 60,
        stat: 'Sum',
        metrics: [
          [input.namespace, METRIC.controllerErrors, DIMENSION.environment, env.environment, { label: 'failed ticks (ControllerErrors)' }],
          lambda('Errors', { label: 'Lambda errors' }),
          lambda('Throttles', { label: 'Lambda throttles' }),
        ],
        yAxis: { left: { min: 0 } },
      },
      {
        title: 'controller: invocations per min',
        period: 60,
        stat: 'Sum',
        metrics: [lambda('Invocations', { label: 'invocations' })],
        yAxis: { left: { min: 0 } },
      },
      {
        title: 'controller: duration, ms',
        period: 60,
        stat: 'Average',
        metrics: [lambda('Duration', { label: 'average' }), lambda('Duration', { label: 'maximum', stat: 'Maximum' })],
        yAxis: { left: { min: 0 } },
      },
    ],
    widgets,
  );
}
