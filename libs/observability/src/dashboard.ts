import type { EnvironmentConfig, LaneConfig } from '@queue-lanes/config';
import type { MetricLine, MetricOptions, QueueSignals } from '@queue-lanes/brokers';
import { DIMENSION, METRIC } from '@queue-lanes/backlog-controller';
import { alarmTopicName } from '@queue-lanes/config';
import { CONNECTION_ERROR_MINUTES, type AlarmThresholds } from './thresholds';

/*
 * The dashboard body (CloudWatch's dashboard JSON), built from plain objects in a
 * fixed order and serialized with JSON.stringify, so the same environment always
 * gives byte-identical JSON. The grid is 24 units wide.
 */

/** Log-derived metric names (namespace `<namespace>/<app>-<env>/<lane>`). */
export const LOG_METRIC = {
  stoppedTasks: 'StoppedTasks',
  redisErrors: 'RedisConnectionErrors',
  auroraErrors: 'AuroraConnectionErrors',
  failedJobs: 'FailedJobs',
  /** Finished attempts (DONE and FAIL lines): the backlog controller's activity signal. */
  finishedJobs: 'FinishedJobs',
} as const;

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

/** One active lane's row. */
export interface DashboardLane {
  readonly lane: LaneConfig;
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
  readonly env: EnvironmentConfig;
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
  let y = 0;
  widgets.push({
    type: 'text',
    x: 0,
    y,
    width: WIDTH,
    height: 2,
    properties: {
      markdown: [
        `# ${env.app} ${env.environment}: queue lanes`,
        `One row per lane (a lane at stage off runs no task and its alarms are quiet)${input.controllerFunctionName ? ', then the backlog controller' : ''}. Every alarm notifies the SNS topic ${alarmTopicName(env)}; each alarm's description says what to check first.`,
      ].join('\n\n'),
    },
  });
  y += 2;
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
  }
  if (input.controllerFunctionName) controllerRow(input, input.controllerFunctionName, y, widgets);
  return { widgets };
}

/** `queues sync, bulk`, or per process group `groups urgent ×1 (sync-urgent), main ×3 (sync-urgent, sync)`. */
export function laneProcesses(lane: Pick<LaneConfig, 'queues' | 'groups' | 'grouped'>): string {
  if (!lane.grouped) return `queues ${lane.queues.join(', ')}`;
  return `groups ${lane.groups.map((g) => `${g.name} ×${g.processes} (${g.queues.join(', ')})`).join(', ')}`;
}

function laneRow(input: DashboardInput, row: DashboardLane, top: number, widgets: Widget[]): number {
  const { env } = input;
  const { lane, thresholds: t } = row;
  const scaled = lane.stage === 'scaling' || lane.stage === 'owned';
  const tasks =
    lane.stage === 'off'
      ? '0 tasks, alarms quiet'
      : scaled
        ? `${lane.tasks.min}–${lane.tasks.max} tasks`
        : `${lane.tasks.baseline} task${lane.tasks.baseline === 1 ? '' : 's'}`;
  widgets.push({
    type: 'text',
    x: 0,
    y: top,
    width: WIDTH,
    height: 1,
    properties: {
      markdown: `## ${lane.name} · ${lane.broker} · ${laneProcesses(lane)} · stage ${lane.stage} (${tasks}) · service ${row.serviceName} · logs ${row.logGroupName}`,
    },
  });
  const y = top + 1;
  const graph = (x: number, properties: Omit<MetricWidgetProperties, 'region' | 'view' | 'stacked'>): Widget => ({
    type: 'metric',
    x,
    y,
    width: 4,
    height: GRAPH_HEIGHT,
    properties: { region: env.region, view: 'timeSeries', stacked: false, ...properties },
  });
  const service: [string, string, string, string] = ['ClusterName', input.clusterName, 'ServiceName', row.serviceName];
  const threshold = (label: string, value: number) => ({ horizontal: [{ label, value }] });

  const { queue } = row;
  // Without a controller (no Redis lane past off) nothing measures a Redis lane.
  const measured = queue.measured ? '' : ' (not measured at this stage)';
  const failed: MetricLine[] = [
    [row.logNamespace, LOG_METRIC.failedJobs, { label: 'failed attempts', stat: 'Sum' }],
    ...queue.dashboard.failed,
  ];

  widgets.push(
    graph(0, {
      title: `${lane.name}: backlog${measured}`,
      period: 60,
      stat: 'Maximum',
      metrics: queue.dashboard.backlog,
      yAxis: { left: { min: 0 } },
      annotations: threshold('backlog alarm', t.backlog),
    }),
    graph(4, {
      title: `${lane.name}: oldest ${queue.dashboard.oldestNoun}, s${measured}`,
      period: 60,
      stat: 'Maximum',
      metrics: queue.dashboard.age,
      yAxis: { left: { min: 0 } },
      annotations: threshold('oldest-job alarm', t.oldestJobSeconds),
    }),
    graph(8, {
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
    }),
    graph(12, {
      title: `${lane.name}: CPU and memory, %`,
      period: 60,
      stat: 'Average',
      metrics: [
        ['AWS/ECS', 'CPUUtilization', ...service, { label: 'CPU' }],
        ['AWS/ECS', 'MemoryUtilization', ...service, { label: 'memory' }],
      ],
      yAxis: { left: { min: 0, max: 100 } },
    }),
    graph(16, {
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
    }),
    graph(20, {
      title: `${lane.name}: failed job attempts per min`,
      period: 60,
      stat: 'Sum',
      metrics: failed,
      yAxis: { left: { min: 0 } },
      annotations: threshold('failed-jobs alarm', t.failedJobsPerMinute),
    }),
  );
  return y + GRAPH_HEIGHT;
}

function controllerRow(input: DashboardInput, fn: string, top: number, widgets: Widget[]): void {
  const { env } = input;
  widgets.push({
    type: 'text',
    x: 0,
    y: top,
    width: WIDTH,
    height: 1,
    properties: { markdown: `## backlog controller · ${fn} · every minute · logs /aws/lambda/${fn}` },
  });
  const y = top + 1;
  const lambda = (name: string, options: MetricOptions): MetricLine => ['AWS/Lambda', name, 'FunctionName', fn, options];
  const graph = (x: number, properties: Omit<MetricWidgetProperties, 'region' | 'view' | 'stacked'>): Widget => ({
    type: 'metric',
    x,
    y,
    width: 8,
    height: GRAPH_HEIGHT,
    properties: { region: env.region, view: 'timeSeries', stacked: false, ...properties },
  });
  widgets.push(
    graph(0, {
      title: 'controller: errors per min',
      period: 60,
      stat: 'Sum',
      metrics: [
        [input.namespace, METRIC.controllerErrors, DIMENSION.environment, env.environment, { label: 'failed ticks (ControllerErrors)' }],
        lambda('Errors', { label: 'Lambda errors' }),
        lambda('Throttles', { label: 'Lambda throttles' }),
      ],
      yAxis: { left: { min: 0 } },
    }),
    graph(8, {
      title: 'controller: invocations per min',
      period: 60,
      stat: 'Sum',
      metrics: [lambda('Invocations', { label: 'invocations' })],
      yAxis: { left: { min: 0 } },
    }),
    graph(16, {
      title: 'controller: duration, ms',
      period: 60,
      stat: 'Average',
      metrics: [lambda('Duration', { label: 'average' }), lambda('Duration', { label: 'maximum', stat: 'Maximum' })],
      yAxis: { left: { min: 0 } },
    }),
  );
}
