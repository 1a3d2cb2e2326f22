/*
 * An environment's runbook, as configured now: the commands an operator runs at
 * night, with the environment's own names (libs/config's naming module), its
 * lanes' stages and its settings filled in. Pure: the same environment gives the
 * same text, so a reviewer sees in a pull request what the runbook will say.
 */
import {
  STACK_ROLES,
  STAGES,
  clusterName,
  controllerName,
  controllerLogGroupName,
  dashboardName,
  laneParameterName,
  logGroupName,
  parameterPathPrefix,
  serviceName,
  stackName,
  stacksPattern,
  stageIndex,
  stoppedTasksLogGroupName,
  type EnvironmentConfig,
  type LaneConfig,
} from '@queue-lanes/config';
import { DEFAULT_NAMESPACE, DIMENSION, METRIC } from '@queue-lanes/contract';
import { BROKER_MODULES, shellQuote } from '@queue-lanes/brokers';
import { AURORA_ERROR_PATTERN, FAILED_JOB_PATTERN, REDIS_ERROR_PATTERN, jsonEquals } from '@queue-lanes/observability';

/** The Markdown runbook of one environment. */
export function renderRunbook(env: EnvironmentConfig): string {
  const c = runbookContext(env);
  const out = [overview, whatIsRunning, scaleByHand, hostConsumers, rollBack, logsAndStopReasons, firstChecks].flatMap((section) =>
    section(c),
  );
  return `${out.join('\n').trimEnd()}\n`;
}

/** What the sections share: the environment, and the names and commands several of them print. */
interface RunbookContext {
  readonly env: EnvironmentConfig;
  /** `--region <region>`, which every aws command takes. */
  readonly regionFlag: string;
  readonly cluster: string;
  /** The environment file, as the runbook tells the operator to edit it. */
  readonly file: string;
  readonly services: readonly string[];
  /** `cdktf deploy` of every stack, from the app folder. */
  readonly deploy: string;
  /** Whether the backlog controller measures any lane. */
  readonly controlled: boolean;
}

function runbookContext(env: EnvironmentConfig): RunbookContext {
  return {
    env,
    regionFlag: `--region ${env.region}`,
    cluster: clusterName(env),
    file: env.source,
    services: env.lanes.map((l) => serviceName(env, l.name)),
    // Every stack in one run: cdktf orders them (parameters before workers) and refuses a partial list.
    deploy: `(cd apps/${env.environment} && npx cdktf deploy '${stacksPattern(env)}')`,
    controlled: env.lanes.some((l) => l.controllerMeasured),
  };
}

/** A fenced shell block, and the blank line after it. */
function sh(...lines: string[]): string[] {
  return ['```sh', ...lines, '```', ''];
}

/** The title, where the runbook comes from, the names to know and one row per lane. */
function overview({ env, cluster, file }: RunbookContext): string[] {
  return [
    `# Runbook: ${env.app} ${env.environment} (${env.region})`,
    '',
    `Written by \`nx run ${env.environment}:runbook\` from ${file} as it is now; regenerate it after every change to the file.`,
    `Start the day with \`npx nx run ${env.environment}:status\`: every check below at once, a verdict per lane, exit 1 when one is not healthy.`,
    `Cluster \`${cluster}\`, dashboard \`${dashboardName(env)}\`, alarms \`${cluster}-*\`, ` +
      `stacks ${STACK_ROLES.map((role) => `\`${stackName(env, role)}\``).join(', ')} (cdktf deploys them in that order).`,
    '',
    '| lane | stage | count set by | tasks | queues | service | logs |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...env.lanes.map(
      (l) =>
        `| ${l.name} | ${l.stage}${l.paused ? ' (paused)' : ''} | ${SIZED_BY[l.sizedBy]} | ${taskRange(l)} | ${l.queues.join(', ')} | ${serviceName(env, l.name)} | ${logGroupName(env, l.name)} |`,
    ),
    '',
    `Fleet cap: ${env.fleet.maxTasks} tasks${env.reservedTasks ? `, of which ${env.reservedTasks} are held by lanes nothing scales at run time` : ''}.`,
    '',
  ];
}

function whatIsRunning({ env, regionFlag: r, cluster, services, controlled }: RunbookContext): string[] {
  return [
    '## What is running',
    '',
    ...sh(
      `aws ecs describe-services ${r} --cluster ${cluster} --services ${services.join(' ')} \\`,
      `  --query 'services[].{service:serviceName,desired:desiredCount,running:runningCount,pending:pendingCount,taskDefinition:taskDefinition,rollout:deployments[0].rolloutState,lastEvent:events[0].message}' --output table`,
      `aws cloudwatch describe-alarms ${r} --alarm-name-prefix ${cluster}- --state-value ALARM --query 'MetricAlarms[].[AlarmName,StateReason]' --output text`,
    ),
    ...(controlled
      ? [
          `The backlog controller \`${controllerName(env)}\` logs one decision line per lane per minute:`,
          '',
          ...sh(`aws logs tail ${r} ${controllerLogGroupName(env)} --since 15m`),
        ]
      : []),
  ];
}

function scaleByHand({ env, regionFlag: r, cluster, file, deploy }: RunbookContext): string[] {
  const out = [
    '## Scale one lane by hand',
    '',
    'Pause the lane first, or the next controller tick (and the next apply) undoes the count. ' +
      `Set \`paused: true\` under \`lanes.<lane>\` in ${file}, deploy, then set the count; \`paused: false\` hands it back. ` +
      `A paused lane counts against the fleet cap at its tasks.max.`,
    '',
  ];
  for (const lane of env.lanes.filter((l) => l.sizedBy !== 'off')) {
    out.push(
      `**${lane.name}** (${lane.stage}${lane.paused ? ', paused already' : ''}):`,
      '',
      ...sh(
        ...(lane.paused ? [] : [`# in ${file}: lanes.${lane.name}.paused: true`, deploy]),
        `aws ecs update-service ${r} --cluster ${cluster} --service ${serviceName(env, lane.name)} --desired-count ${lane.tasks.max}`,
      ),
    );
  }
  const off = env.lanes.filter((l) => l.sizedBy === 'off');
  if (off.length > 0) out.push(`Lanes at off (${off.map((l) => l.name).join(', ')}) cannot be paused: move them to baseline first.`, '');
  return out;
}

function hostConsumers({ env }: RunbookContext): string[] {
  return [
    "## The web hosts' consumers",
    '',
    "On each web host the host agent applies every lane's host-consumer switch once a minute. Where the hosts run the queues under Horizon, every lane needs a supervisor of its own (so pausing it never stops `default`); on each such host, as the web user in the application folder:",
    '',
    ...sh(
      `queue-lanes-host-agent --check --horizon --app ${env.app} --environment ${env.environment} --region ${env.region} ${env.lanes.map((l) => `--lane ${l.name}`).join(' ')}   # exit 0: every lane has its supervisor`,
    ),
  ];
}

/** One stage back per lane, and how to see that the hosts took the queue back. */
function rollBack({ env, regionFlag: r, file, deploy }: RunbookContext): string[] {
  const out = [
    '## Roll a lane back',
    '',
    `One stage back per lane (any distance is allowed in one change), through a pull request so the rollout guard judges it; ` +
      `the deploy applies the parameters stack before workers and scaling, so the hosts take the queue back before ECS capacity shrinks. ` +
      `Rolled back to off, the service stays at 0 tasks with its task definition, logs and quiet alarms for the diagnosis.`,
    '',
  ];
  for (const lane of env.lanes) {
    const index = stageIndex(lane.stage);
    if (index === 0) {
      out.push(
        `**${lane.name}** is at off: nothing to roll back. Removing it from the file (a later change) deletes its service and alarms; its log group stays.`,
        '',
      );
      continue;
    }
    const previous = STAGES[index - 1];
    out.push(
      `**${lane.name}**: ${lane.stage} → ${previous}${lane.stage === 'owned' ? ' (the host-consumer switch goes back to enabled)' : ''}.`,
      '',
      ...sh(
        `# in ${file}: lanes.${lane.name}.stage: ${previous}`,
        deploy,
        `aws ssm get-parameter ${r} --name ${laneParameterName(env, lane.name, 'host-consumer')} --query Parameter.Value --output text   # enabled`,
        `# each web host: supervisorctl status 'queue-${lane.name}:*'   # RUNNING`,
        `# or, on Horizon hosts (every Horizon 5): php artisan horizon:supervisors   # <this host>-XXXX:${lane.name} ... running`,
      ),
    );
  }
  return out;
}

function logsAndStopReasons({ env, regionFlag: r, cluster }: RunbookContext): string[] {
  const stopped = stoppedTasksLogGroupName(env);
  const out = [
    '## Logs and stop reasons',
    '',
    `ECS forgets a stopped task after about an hour; every crash stop (not scale-in, deployments or Spot) is also kept in \`${stopped}\` for ${env.logs.retentionDays} days.`,
    '',
  ];
  for (const lane of env.lanes) {
    const service = serviceName(env, lane.name);
    out.push(
      `**${lane.name}**:`,
      '',
      ...sh(
        `aws logs tail ${r} ${logGroupName(env, lane.name)} --since 30m --follow`,
        `aws ecs describe-tasks ${r} --cluster ${cluster} --tasks $(aws ecs list-tasks ${r} --cluster ${cluster} --service-name ${service} --desired-status STOPPED --query 'taskArns[:10]' --output text) \\`,
        `  --query 'tasks[].{stopped:stoppedAt,code:stopCode,reason:stoppedReason,exits:containers[].[name,exitCode,reason]}'`,
        `aws logs filter-log-events ${r} --log-group-name ${stopped} --start-time $(date -d '-1 day' +%s000) \\`,
        `  --filter-pattern ${shellQuote(jsonEquals({ '$.detail.group': `service:${service}` }))} --query 'events[].message'`,
      ),
    );
  }
  return out;
}

/** What to look at first, by symptom. */
function firstChecks(c: RunbookContext): string[] {
  return ['## First checks', '', ...jobsFailImmediately(c), ...noSteadyState(c), ...queueNotDraining(c), ...timeouts(c)];
}

/** A loop over every lane's log group printing the last lines that match `pattern` since `since` (a `date -d` offset). */
function logSearch({ env, regionFlag: r }: RunbookContext, pattern: string, since: string): string[] {
  return [
    `for group in ${env.lanes.map((l) => logGroupName(env, l.name)).join(' ')}; do`,
    `  echo "$group"; aws logs filter-log-events ${r} --log-group-name "$group" --start-time $(date -d '${since}' +%s000) \\`,
    `    --filter-pattern ${shellQuote(pattern)} --query 'events[-5:].message' --output text`,
    'done',
  ];
}

function jobsFailImmediately(c: RunbookContext): string[] {
  const { env, regionFlag: r } = c;
  const { redis, aurora } = env.network;
  return [
    '### Jobs fail immediately',
    '',
    'The exception is logged just before the job line of each attempt that threw (`"error":true`). If it started with a deploy, roll the image back (the previous task definition revision) before retrying the failed jobs (`php artisan queue:retry`). ' +
      'A missing class or config value points at the image or the runtime parameters; a connection error at the network.',
    '',
    ...sh(
      '# the last job lines of attempts that threw or failed (the filter the failed-jobs alarms count)',
      ...logSearch(c, FAILED_JOB_PATTERN, '-1 hour'),
      '# the runtime parameters, and when each changed',
      `aws ssm get-parameters-by-path ${r} --path ${parameterPathPrefix(env)} --recursive --query 'Parameters[].[Name,Version,LastModifiedDate]' --output text`,
      '# Redis, then Aurora, connection errors (the redis-errors and aurora-errors alarms)',
      ...logSearch(c, REDIS_ERROR_PATTERN, '-1 hour'),
      ...logSearch(c, AURORA_ERROR_PATTERN, '-1 hour'),
    ),
    `Connection errors: the worker security group must reach Redis (${redis.securityGroupId}, port ${redis.port}) and Aurora (${aurora.securityGroupId}, port ${aurora.port}); ` +
      'fix connectivity before adding workers, since more workers only add connections.',
    '',
  ];
}

function noSteadyState({ regionFlag: r, cluster, services }: RunbookContext): string[] {
  return [
    '### No steady state (tasks start and stop)',
    '',
    'The service events and the stop reasons say which: `ResourceInitializationError` (the execution role cannot pull the image or read a parameter: a missing secret), ' +
      '`CannotPullContainerError` (the image tag), `Essential container in task exited` (read the last lines of the log before the stop: missing runtime folders, a missing PHP extension, a bad command). ' +
      'The deployment circuit breaker rolls a failing deployment back to the previous task definition.',
    '',
    ...sh(
      `aws ecs describe-services ${r} --cluster ${cluster} --services ${services.join(' ')} --query 'services[].[serviceName,events[:5].message]' --output text`,
    ),
  ];
}

/** Where a backlog can be read: each broker's setup once, then each lane's own commands. */
function queueNotDraining({ env, regionFlag: r, controlled }: RunbookContext): string[] {
  const out = [
    '### Queue not draining',
    '',
    'Compare desired with running on the dashboard: running below desired means tasks fail to start (above); desired at tasks.max means the lane is saturated; ' +
      `desired held low while work waits means the fleet cap (${env.fleet.maxTasks}) or the controller holds it (its log says why). ` +
      'Below owned the host consumers take jobs too: check they run.',
    '',
  ];
  const inspections = new Map([...new Set(env.lanes.map((l) => l.broker))].map((b) => [b, BROKER_MODULES[b].queueInspection(env, r)]));
  for (const inspection of inspections.values()) {
    if (inspection?.intro) out.push(inspection.intro, '', ...sh(...inspection.setup));
  }
  for (const lane of env.lanes) {
    const lines = [
      ...(lane.controllerMeasured ? controllerLines(env, r, lane) : []),
      ...(inspections.get(lane.broker)?.laneLines(lane) ?? []),
    ];
    if (lines.length) out.push(`**${lane.name}**:`, '', ...sh(...lines));
  }
  // The key prefix is Redis's alone: an SQS lane is read by its queue's name.
  if (controlled && env.lanes.some((l) => l.controllerMeasured && l.broker === 'redis')) {
    out.push(
      `Every queue of a lane reading empty while jobs wait is a wrong key prefix (the \`<lane>-key-prefix\` alarm): the controller reads under ${JSON.stringify(env.redisKeyPrefix ?? '')}; ` +
        `compare with \`php artisan tinker --execute="echo config('database.redis.options.prefix');"\` in the application.`,
      '',
    );
  }
  return out;
}

/** The backlog the controller measured for a lane in the last half hour, and its decisions. */
function controllerLines(env: EnvironmentConfig, r: string, lane: LaneConfig): string[] {
  return [
    `aws cloudwatch get-metric-statistics ${r} --namespace ${DEFAULT_NAMESPACE} --metric-name ${METRIC.backlog} --dimensions Name=${DIMENSION.environment},Value=${env.environment} Name=${DIMENSION.lane},Value=${lane.name} \\`,
    `  --start-time $(date -u -d '-30 min' +%FT%TZ) --end-time $(date -u +%FT%TZ) --period 60 --statistics Maximum --query 'sort_by(Datapoints,&Timestamp)[].Maximum'`,
    `aws logs tail ${r} ${controllerLogGroupName(env)} --since 15m --filter-pattern '"${lane.name}"'`,
  ];
}

function timeouts(c: RunbookContext): string[] {
  const { env } = c;
  return [
    '### Timeouts',
    '',
    'A job that runs past `--timeout` is killed with its worker: Laravel logs "<job> has timed out." and the worker exits 1 (ECS starts it again); a task stopped by scale-in or a deployment gets SIGTERM, then SIGKILL after stopTimeout. ' +
      `A reservation that outlives its worker comes back after retry_after (redis.retryAfter: ${env.redis.retryAfter ?? 'null, so it never does: the stuck-jobs alarm reports those'}).`,
    '',
    '| lane | processes | job.timeout | stopTimeout | tries | backoff |',
    '| --- | --- | --- | --- | --- | --- |',
    ...env.lanes.flatMap((l) =>
      l.groups.map(
        (g) =>
          `| ${l.name} | ${l.grouped ? `${g.name}: ` : ''}${g.processes} on ${g.queues.join(', ')} | ${g.job.timeout} s | ${l.stopTimeout} s | ${g.job.tries} | ${g.job.backoff.join(', ')} s |`,
      ),
    ),
    '',
    ...sh(...logSearch(c, '"has timed out."', '-1 day')),
  ];
}

const SIZED_BY: Record<LaneConfig['sizedBy'], string> = {
  off: 'nobody (0 tasks)',
  fixed: 'Terraform',
  controller: 'backlog controller',
  operator: 'an operator',
};

function taskRange(lane: LaneConfig): string {
  switch (lane.sizedBy) {
    case 'off':
      return '0';
    case 'fixed':
      return String(lane.tasks.baseline);
    case 'operator':
      return `by hand, at most ${lane.tasks.max}`;
    default:
      return `${lane.tasks.min}..${lane.tasks.max}`;
  }
}
