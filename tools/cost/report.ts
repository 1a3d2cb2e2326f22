/*
 * Renders a CostEstimate as Markdown: per lane and per service, three
 * scenarios, then every assumption behind the numbers.
 */
import { logGroupName } from '@queue-lanes/config';
import { laneProcesses } from '@queue-lanes/observability';
import { SCENARIOS, SERVICES, type CostEstimate, type LaneEstimate, type PerScenario, type Scenario } from './estimate';

const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

export function money(value: number): string {
  // Never print "-$0.00" for a rounding residue.
  return usd.format(Math.abs(value) < 0.005 ? 0 : value);
}

const cells = (values: PerScenario<number>, bold = false) => SCENARIOS.map((s) => (bold ? `**${money(values[s])}**` : money(values[s])));

const row = (values: readonly string[]) => `| ${values.join(' | ')} |`;

function size(lane: LaneEstimate['lane']): string {
  const gb = lane.memory / 1024;
  return `${lane.cpu / 1024} vCPU, ${gb} GB, ${lane.architecture}${lane.grouped ? `, ${laneProcesses(lane)}` : ''}`;
}

function capacity(lane: LaneEstimate['lane']): string {
  const providers = new Set(lane.capacity.filter((c) => c.weight > 0 || c.base > 0).map((c) => c.provider));
  if (providers.size > 1) {
    return `mixed (${lane.capacity
      .map((c) => `${c.provider === 'FARGATE_SPOT' ? 'Spot' : 'on-demand'} base ${c.base} weight ${c.weight}`)
      .join(', ')})`;
  }
  return providers.has('FARGATE_SPOT') ? 'Spot' : 'on-demand';
}

function tasks(values: PerScenario<number>, capped: readonly Scenario[] = []): string {
  return SCENARIOS.map((s) => `${values[s]}${capped.includes(s) ? '*' : ''}`).join(' / ');
}

export function renderReport(estimate: CostEstimate): string {
  const { env, assumptions: a } = estimate;
  const hours = a.hoursPerMonth;
  const out: string[] = [];
  out.push(
    `# Monthly cost estimate: ${env.app} ${env.environment} (${env.region}, ${estimate.regionName})`,
    '',
    `USD per month of ${hours} hours, at list prices from \`tools/cost/prices.json\` (dated ${estimate.sourceDate}; Fargate Spot rates are an average snapshot). An estimate for planning, not a bill.`,
    '',
    '- **idle**: each lane at its floor: `tasks.min` at scaling and owned, `tasks.baseline` at baseline, none at off.',
    '- **baseline**: each lane that runs at `tasks.baseline` (kept within `tasks.min`..`tasks.max` when it scales).',
    `- **max**: each scaling or owned lane at \`tasks.max\`, within \`fleet.maxTasks\` (${env.fleet.maxTasks}): the backlog controller fills the fleet in lane priority order.`,
    '',
    row(['lane', 'stage', 'task size', 'capacity', 'tasks idle / baseline / max', 'idle', 'baseline', 'max']),
    row(['---', '---', '---', '---', '---', '---:', '---:', '---:']),
  );
  for (const lane of estimate.lanes) {
    const l = lane.lane;
    out.push(row([l.name, l.stage, size(l), capacity(l), tasks(lane.tasks, lane.capped), ...cells(lane.monthly)]));
  }
  const others = ['scheduler service', 'backlog controller', 'environment'];
  const describe: Record<string, string> = {
    'scheduler service': `1 task, ${env.scheduler.service.cpu / 1024} vCPU, ${env.scheduler.service.memory / 1024} GB, on-demand`,
    'backlog controller': `Lambda ${a.controller.memoryMb} MB, ${a.controller.invocationsPerMinute}/min × ${a.controller.durationSeconds} s; its metrics, alarms, logs`,
    environment: `${a.dashboards} CloudWatch dashboard`,
  };
  for (const owner of others) {
    const items = estimate.items.filter((item) => item.owner === owner && item.lane === undefined);
    if (items.length === 0) continue;
    const monthly = Object.fromEntries(SCENARIOS.map((s) => [s, items.reduce((sum, i) => sum + i.monthly[s], 0)])) as PerScenario<number>;
    out.push(row([owner, '', describe[owner], '', '', ...cells(monthly)]));
  }
  out.push(row(['**total**', '', '', '', `**${tasks(estimate.tasks)}**`, ...cells(estimate.total, true)]));
  if (estimate.lanes.some((l) => l.capped.length > 0)) {
    out.push('', `\\* held below what the lane asks for by \`fleet.maxTasks\` (${env.fleet.maxTasks}).`);
  }

  out.push('', '## By service', '', row(['service', 'idle', 'baseline', 'max']), row(['---', '---:', '---:', '---:']));
  for (const service of SERVICES) {
    const items = estimate.items.filter((i) => i.service === service);
    if (items.length === 0) continue;
    const monthly = Object.fromEntries(SCENARIOS.map((s) => [s, items.reduce((sum, i) => sum + i.monthly[s], 0)])) as PerScenario<number>;
    out.push(row([service, ...cells(monthly)]));
  }
  out.push(row(['**total**', ...cells(estimate.total, true)]));

  const c = a.controller;
  out.push(
    '',
    '## Assumptions',
    '',
    `- ${hours} hours a month; a task costs its vCPU × the vCPU-hour rate plus its memory (GB) × the GB-hour rate, for its architecture and capacity provider. Mixed capacity strategies are split as ECS does: each \`base\` first, the rest by weight.`,
    `- Backlog controller: one Lambda per environment while any lane runs (stage above off), ${c.invocationsPerMinute} invocation a minute of ${c.durationSeconds} s at ${c.memoryMb} MB (${c.architecture}), ${c.putMetricDataPerInvocation} PutMetricData call per invocation.`,
    `- CloudWatch custom metrics: ${a.metricsPerControllerLane} per lane the controller measures (Redis or SQS, past off) and ${c.metrics} for the controller itself.`,
    `- CloudWatch alarms: the ${estimate.alarms} the synthesized stacks create (a lane at off keeps its own, quiet); standard resolution.`,
    `- ${a.dashboards} CloudWatch dashboard per environment.`,
    `- Log ingestion: ${a.logGbPerTaskMonth} GB per running task per month, ${c.logGbPerMonth} GB a month for the controller. This is a guess: measure \`IncomingBytes\` of the \`${logGroupName(env, '*')}\` log groups and adjust.`,
    '- Not included: free tiers, log storage and Logs Insights queries, data transfer and NAT, ECR storage, SQS requests, Redis, Aurora, the web hosts, Savings Plans, tax.',
  );
  return `${out.join('\n')}\n`;
}
