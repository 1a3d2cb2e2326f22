import { FILE_LOG_CHANNELS, PRINT_PREFIX_COMMAND, derivedPrefixes } from './laravel';
import { ECS_EXEC, MAX_ROLE_NAME, SCHEDULER, clusterName, logGroupName, queueName, roleName, serviceName } from './names';
import { containerMemoryLimit, maxWorkerMemory } from './memory';
import { laneGroups, laneSizing, redisHost, redisKeyPrefix, reservedTaskParts } from './resolve';
import type { EnvironmentFile } from './schema';
import { FARGATE_MEMORY, KEY_PREFIX_RULE, PRINTABLE, SQS_DEFAULTS } from './schema';

/** A rule violation, located by key path; the loader turns the path into file:line:column. */
export interface RuleIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /**
   * Where to point when `path` is a key the file does not have (a required
   * setting left out): the key that makes it required.
   * @default path
   */
  readonly locate?: readonly (string | number)[];
}

type AddIssue = (path: (string | number)[], message: string, locate?: (string | number)[]) => void;

/**
 * Every rule that relates several fields of one environment file
 * (docs/design.md, "The rules"). Rules that need the
 * previous version of the file live in the rollout guard instead.
 */
export function checkRules(env: EnvironmentFile): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const add: AddIssue = (path, message, locate) => issues.push({ path, message, ...(locate ? { locate } : {}) });
  const consumers = new Map<string, { lane: string; where: string }>();

  for (const [name, lane] of Object.entries(env.lanes)) {
    const context: LaneRuleContext = {
      env,
      name,
      lane,
      groups: laneGroups(lane),
      at: (...rest) => ['lanes', name, ...rest],
      add,
      consumers,
    };
    for (const rule of LANE_RULES) rule(context);
  }
  for (const rule of ENVIRONMENT_RULES) rule(env, add);
  return issues;
}

/** Why `memory` MiB is not a Fargate size for `cpu`, or undefined when it is one. */
function fargateSizeProblem(cpu: number, memory: number): string | undefined {
  const choices = FARGATE_MEMORY[cpu];
  return choices.includes(memory) ? undefined : `${memory} MiB is not a Fargate size for cpu ${cpu}; valid: ${describeChoices(choices)}`;
}

/** The s3 backend names the key its state is encrypted with. */
function stateRules(env: EnvironmentFile, add: AddIssue): void {
  if (env.state.backend === 's3' && env.state.kmsKeyId === undefined) {
    add(
      ['state', 'kmsKeyId'],
      'is required with the s3 backend: state holds every attribute of every resource, so name the KMS key it is encrypted with (a key ARN, alias/<name> or alias ARN), whose key policy says who may read it; with S3-managed keys, whoever can read the bucket can read the state',
    );
  }
}

/** A scheduler service of a Fargate size, never beside the hosts' scheduler. */
function schedulerRules(env: EnvironmentFile, add: AddIssue): void {
  const { onHosts, service } = env.scheduler;
  const size = fargateSizeProblem(service.cpu, service.memory);
  if (size) add(['scheduler', 'service', 'memory'], size);
  if (onHosts && service.enabled) {
    add(
      ['scheduler', 'service', 'enabled'],
      'the scheduler would run twice (on the web hosts and as a service); set scheduler.onHosts: false when moving it to ECS',
    );
  }
}

/** The workers connect where the parameters say; the security groups open the network's ports. */
function parameterPortRules(env: EnvironmentFile, add: AddIssue): void {
  for (const [parameter, service, port] of [
    ['REDIS_PORT', 'redis', env.network.redis.port],
    ['DB_PORT', 'aurora', env.network.aurora.port],
  ] as const) {
    const value = env.parameters.plain[parameter];
    if (value !== undefined && String(value) !== String(port)) {
      add(
        ['parameters', 'plain', parameter],
        `${value} is not network.${service}.port (${port}): the workers would connect to one port while the security groups open the other; make them the same`,
      );
    }
  }
}

/** A retention CloudWatch Logs offers and checkov accepts. */
function logRetentionRules(env: EnvironmentFile, add: AddIssue): void {
  if (!LOG_RETENTION_DAYS.includes(env.logs.retentionDays)) {
    add(
      ['logs', 'retentionDays'],
      `${env.logs.retentionDays} is not a retention CloudWatch Logs offers; valid: ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  } else if (env.logs.retentionDays < MIN_SCANNED_RETENTION_DAYS) {
    add(
      ['logs', 'retentionDays'],
      `${env.logs.retentionDays} days is a retention CloudWatch Logs offers, but checkov's CKV_AWS_338 (log groups keep logs at least a year), which the test command runs on every stack, refuses it; valid: ${LOG_RETENTION_DAYS.filter((d) => d >= MIN_SCANNED_RETENTION_DAYS).join(', ')}`,
    );
  }
}

/** A non-root container user whose ids Fargate maps. */
function runtimeUserRules(env: EnvironmentFile, add: AddIssue): void {
  if (/^(root|0)(:|$)/.test(env.runtime.user)) {
    add(['runtime', 'user'], `"${env.runtime.user}" is root; the containers must run as a non-root user such as www-data`);
  }
  const ids = env.runtime.user.split(':').filter((part) => /^\d+$/.test(part));
  if (ids.some((id) => Number(id) > MAX_CONTAINER_ID)) {
    add(
      ['runtime', 'user'],
      `"${env.runtime.user}" has an id above ${MAX_CONTAINER_ID}, which container images and Fargate do not map; use an id from 1 to ${MAX_CONTAINER_ID}`,
    );
  }
}

/** Secrets are SecureString parameters: never plain, never twice. */
function secretParameterRules(env: EnvironmentFile, add: AddIssue): void {
  for (const name of Object.keys(env.parameters.plain)) {
    // Named in secure or as the AUTH token, it already has its own error.
    const covered = env.parameters.secure.includes(name) || env.redis.authParameter === name;
    if (!covered && SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name)) {
      add(
        ['parameters', 'plain', name],
        `looks like a secret (its name says ${SECRET_NAME.exec(name)![0]}), and plain parameters are String parameters anyone who reads the environment can see; list ${name} under parameters.secure and set its value out of band`,
      );
    }
  }

  const plain = new Set(Object.keys(env.parameters.plain));
  env.parameters.secure.forEach((secret, index) => {
    if (plain.has(secret)) {
      add(
        ['parameters', 'secure', index],
        `"${secret}" is also a plain parameter; a secret must not be stored in plain text, remove it from parameters.plain`,
      );
    }
    if (env.parameters.secure.indexOf(secret) !== index) {
      add(['parameters', 'secure', index], `"${secret}" is listed twice`);
    }
  });
}

/** Someone reads the alarms where people are paged, each endpoint once. */
function alarmSubscriptionRules(env: EnvironmentFile, add: AddIssue): void {
  const subscriptions = env.alarms.subscriptions;
  if (env.guardrails.oneLaneAtATime && subscriptions.length === 0) {
    add(
      ['alarms', 'subscriptions'],
      'lists no one, while guardrails.oneLaneAtATime marks this an environment people are paged for: every alarm would notify an SNS topic nobody reads; subscribe the on-call (protocol email, https, sqs or lambda)',
      ['guardrails', 'oneLaneAtATime'],
    );
  }
  subscriptions.forEach((s, index) => {
    const first = subscriptions.findIndex((o) => o.protocol === s.protocol && o.endpoint === s.endpoint);
    if (first !== index) {
      add(
        ['alarms', 'subscriptions', index, 'endpoint'],
        `${s.protocol} ${s.endpoint} is already subscribed (alarms.subscriptions[${first}]); SNS keeps one subscription per endpoint, so remove the duplicate`,
      );
    }
  });
}

/** Highest uid or gid a container user may have: the 16-bit ids images and Fargate map. */
const MAX_CONTAINER_ID = 65535;

/** Parameter names that hold secrets by Laravel's and AWS's conventions. */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|APP_KEY|DSN)/;
/** Names that contain those words but are not secrets (a key's id, a setting about tokens). */
const NOT_SECRET_NAME = /(ACCESS_KEY_ID|_TTL|_LIFETIME|_EXPIRE|_LENGTH|_URL)$/;

/** The least retention checkov's CKV_AWS_338 accepts on a log group: a year. */
const MIN_SCANNED_RETENTION_DAYS = 365;

/** The only values CloudWatch Logs accepts for a log group's retention, in days. */
const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Names a lane cannot take, because a lane's service or log group would collide with these. */
function reservedLaneNames(env: EnvironmentFile): Map<string, string> {
  return new Map([
    [SCHEDULER, `the scheduler service ${serviceName(env, SCHEDULER)} and its log group`],
    [ECS_EXEC, `the ECS Exec session log group ${logGroupName(env, ECS_EXEC)}`],
  ]);
}

/**
 * Limits AWS enforces at apply time that the file can break: caught here, with a
 * position, instead of halfway through a deploy. (The constructs check their own
 * props as well, for callers that do not come through this file.)
 */
function awsNameRules(env: EnvironmentFile, add: AddIssue): void {
  if (/^sg-/i.test(env.app)) {
    add(
      ['app'],
      `"${env.app}" would name the security groups ${clusterName(env)}-workers…, and EC2 reserves names starting with "sg-" for group ids; choose another app name`,
    );
  }
  if (/^(aws|ssm)/i.test(env.app)) {
    add(
      ['app'],
      `"${env.app}" would put the parameters under /${env.app}/, and SSM reserves names beginning with "aws" or "ssm"; choose another app name`,
    );
  }
  for (const name of Object.keys(env.lanes)) {
    const role = roleName(env, name, 'execution');
    if (role.length > MAX_ROLE_NAME) {
      add(
        ['lanes', name],
        `the lane's IAM role ${role} would be ${role.length} characters and IAM allows ${MAX_ROLE_NAME}; shorten the lane, app or environment name`,
      );
    }
  }
  const { redis, aurora, httpsEgress } = env.network;
  if (redis.securityGroupId === aurora.securityGroupId && redis.port === aurora.port) {
    add(
      ['network', 'aurora', 'port'],
      `${aurora.port} is also the Redis port on the same security group (${redis.securityGroupId}), so the two access rules would be duplicates, which EC2 rejects`,
    );
  }
  if (httpsEgress) {
    if (httpsEgress.prefixListIds.length === 0 && httpsEgress.securityGroupIds.length === 0) {
      add(
        ['network', 'httpsEgress'],
        'lists no prefixListIds and no securityGroupIds, so workers could not pull images or read parameters; list the VPC endpoints, or remove httpsEgress to allow 443 to anywhere',
      );
    }
    for (const key of ['prefixListIds', 'securityGroupIds'] as const) {
      httpsEgress[key].forEach((id, index) => {
        if (httpsEgress[key].indexOf(id) !== index)
          add(['network', 'httpsEgress', key, index], `${id} is listed twice; EC2 rejects duplicate rules`);
      });
    }
  }
  for (const [name, value] of Object.entries(env.parameters.plain)) {
    const bytes = Buffer.byteLength(String(value), 'utf8');
    if (bytes === 0) add(['parameters', 'plain', name], 'SSM cannot store an empty value; give it a value or leave it out');
    if (bytes > 4096) add(['parameters', 'plain', name], `the value is ${bytes} bytes; a standard SSM parameter holds at most 4096`);
  }
}

/**
 * Tasks nothing can cap at runtime (fixed baselines, and maxima of paused lanes)
 * must fit the fleet; the controller caps its own lanes, Redis and SQS, itself.
 */
function fleetRules(env: EnvironmentFile, add: AddIssue): void {
  const parts = reservedTaskParts(env.lanes);
  const total = parts.reduce((sum, part) => sum + part.tasks, 0);
  const describe = parts.map((p) => `${p.lane} ${p.tasks} (${p.sizedBy === 'fixed' ? 'baseline' : 'max, paused'})`);
  if (total > env.fleet.maxTasks) {
    add(
      ['fleet', 'maxTasks'],
      `${env.fleet.maxTasks} is below the ${total} tasks that fixed and paused lanes may run (${describe.join(' + ')}); raise fleet.maxTasks or lower those lanes`,
    );
  }
}

/** What the backlog controller needs to read the Redis lanes it measures (every Redis lane past off). */
function controllerRules(env: EnvironmentFile, add: AddIssue): void {
  const { redis, parameters } = env;
  const auth = redis.authParameter;
  if (auth !== undefined && !parameters.secure.includes(auth)) {
    add(
      ['redis', 'authParameter'],
      Object.hasOwn(parameters.plain, auth)
        ? `"${auth}" is a plain parameter; the Redis AUTH token must be a secret: move it to parameters.secure`
        : `"${auth}" is not in parameters.secure (${parameters.secure.join(', ') || 'none listed'}); the controller reads the Redis AUTH token from that SecureString parameter, so list it there`,
    );
  }
  if (redis.cluster && redis.database !== 0) {
    add(['redis', 'database'], `${redis.database} must be 0 in cluster mode (Redis Cluster has one database)`);
  }

  const measured = Object.entries(env.lanes).filter(([, lane]) => lane.broker === 'redis' && laneSizing(lane) !== 'off');
  if (measured.length > 0) {
    const names = measured.map(([name]) => name);
    const which = names.length === 1 ? `Redis lane ${names[0]} runs` : `Redis lanes ${names.join(', ')} run`;
    // Without a redis block the key has no line of its own: point at the lane that needs it.
    const lane = ['lanes', names[0], 'stage'];
    if (redisHost(env) === undefined) {
      add(
        ['redis', 'host'],
        `${which}, so the backlog controller reads its queues from Redis, but no Redis host is configured; set redis.host, or REDIS_HOST under parameters.plain`,
        lane,
      );
    }
    if (redisKeyPrefix(env) === undefined) {
      add(['redis', 'keyPrefix'], missingPrefixMessage(env, which), lane);
    }
    const workers = parameters.plain.REDIS_PREFIX;
    if (redis.keyPrefix !== undefined && workers !== undefined && String(workers) !== redis.keyPrefix) {
      add(
        ['redis', 'keyPrefix'],
        `"${redis.keyPrefix}" differs from parameters.plain.REDIS_PREFIX ("${workers}"), the prefix the workers use, so the controller would read other keys than the workers take jobs from; remove redis.keyPrefix or make them equal`,
      );
    }
    if (redis.retryAfter !== null) {
      for (const [name, lane] of measured) {
        let inheritedTooLong = false;
        laneGroups(lane).forEach((group, g) => {
          if (group.job.timeout < (redis.retryAfter ?? Infinity)) return;
          const own = lane.groups?.[g].job?.timeout !== undefined;
          if (!own && inheritedTooLong) return;
          inheritedTooLong ||= !own;
          add(
            own ? ['lanes', name, 'groups', g, 'job', 'timeout'] : ['lanes', name, 'job', 'timeout'],
            `${lane.groups ? `group "${group.name}": ` : ''}${group.job.timeout} s is not below redis.retryAfter (${redis.retryAfter} s), so Laravel would hand a job that is still running to a second worker; lower job.timeout or raise redis.retryAfter (the connection's retry_after) above it`,
          );
        });
      }
    }
  }
  env.controller.wakeInvokerRoleArns.forEach((arn, index, arns) => {
    if (arns.indexOf(arn) !== index) add(['controller', 'wakeInvokerRoleArns', index], `${arn} is listed twice`);
  });
}

/**
 * The mark cdktf (which writes the Terraform JSON) puts in a string for a reference
 * between resources, `${TfToken[TOKEN.<n>]}` (`#{` for a list): synth replaces it
 * with a resource's attribute wherever it appears, escaped or not.
 */
const CDKTF_TOKEN_MARK = /[$#]\{TfToken\[/;

/**
 * Ids and names that reach AWS, beyond the shape the schema checks: each subnet once,
 * the controller's key prefix printable, and no string that synth would read as a
 * reference (every other string reaches Terraform as a literal: libs/stacks literals).
 */
function identifierRules(env: EnvironmentFile, add: AddIssue): void {
  eachString(env, [], (value, path) => {
    const mark = CDKTF_TOKEN_MARK.exec(value)?.[0];
    if (mark)
      add(
        path,
        `${JSON.stringify(value)} holds "${mark}", the mark cdktf gives a reference between resources: synth would put a resource's attribute in its place; remove it`,
      );
  });
  env.network.privateSubnetIds.forEach((id, index, ids) => {
    if (ids.indexOf(id) !== index)
      add(
        ['network', 'privateSubnetIds', index],
        `${id} is listed twice (first as privateSubnetIds[${ids.indexOf(id)}]); list each subnet once: a repeated id is usually a copy where another Availability Zone's subnet was meant`,
      );
  });
  // The workers' REDIS_PREFIX is the controller's prefix when redis.keyPrefix is left out: it gets redis.keyPrefix's rule.
  const workers = env.parameters.plain.REDIS_PREFIX;
  if (env.redis.keyPrefix === undefined && typeof workers === 'string' && !PRINTABLE.test(workers)) {
    add(['parameters', 'plain', 'REDIS_PREFIX'], `${JSON.stringify(workers)} ${KEY_PREFIX_RULE}`);
  }
}

/** Calls `visit` with every string of `value` and its key path. */
function eachString(value: unknown, path: (string | number)[], visit: (value: string, path: (string | number)[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, i) => eachString(item, [...path, i], visit));
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) eachString(inner, [...path, key], visit);
  }
}

/** Why the controller needs the prefix, and both values Laravel may have derived. */
function missingPrefixMessage(env: EnvironmentFile, which: string): string {
  const appName = env.parameters.plain.APP_NAME === undefined ? env.app : String(env.parameters.plain.APP_NAME);
  const print = `print it with ${PRINT_PREFIX_COMMAND}`;
  const set = 'and set redis.keyPrefix (or REDIS_PREFIX under parameters.plain, which the workers then use too)';
  const candidates = derivedPrefixes(appName);
  if (candidates === undefined) {
    return `${which}, so the backlog controller needs the queue connection's key prefix, and APP_NAME "${appName}" has characters Laravel's Str::slug transliterates, so it cannot be derived here; ${print} ${set}`;
  }
  return `${which}, so the backlog controller needs the queue connection's key prefix; with REDIS_PREFIX unset Laravel derives it from APP_NAME "${appName}": "${candidates.beforeV12_1}" in applications created from laravel/laravel before v12.1.0, "${candidates.sinceV12_1}" since (a wrong prefix reads as empty queues); ${print} ${set}`;
}

/** Log channels that keep the workers' lines out of CloudWatch (and so out of the log metric filters). */
function logChannelRules(env: EnvironmentFile, add: AddIssue): void {
  const plain = env.parameters.plain;
  if (plain.LOG_CHANNEL === undefined) return;
  const channel = String(plain.LOG_CHANNEL);
  const stack = String(plain.LOG_STACK ?? 'single')
    .split(',')
    .map((c) => c.trim());
  const files =
    channel === 'stack' ? stack.filter((c) => FILE_LOG_CHANNELS.includes(c)) : FILE_LOG_CHANNELS.includes(channel) ? [channel] : [];
  if (files.length === 0) return;
  const via =
    channel === 'stack'
      ? `"stack", whose LOG_STACK ${plain.LOG_STACK === undefined ? 'defaults to' : 'includes'} "${files.join('", "')}",`
      : `"${channel}"`;
  add(
    ['parameters', 'plain', 'LOG_CHANNEL'],
    `${via} writes the workers' log to a file inside the container, which nothing ships to CloudWatch, so the Redis, Aurora and failed-job alarms would never see a line; use stderr (the workers' default when LOG_CHANNEL is unset), or a stack of stderr`,
  );
}

function describeChoices(values: readonly number[]): string {
  if (values.length <= 3) return values.join(', ');
  const step = values[1] - values[0];
  return `${values[0]}–${values[values.length - 1]} in steps of ${step}`;
}

/** What a lane rule sees: the lane, its resolved groups, and where to report. */
interface LaneRuleContext {
  readonly env: EnvironmentFile;
  readonly name: string;
  readonly lane: EnvironmentFile['lanes'][string];
  readonly groups: ReturnType<typeof laneGroups>;
  readonly at: (...rest: (string | number)[]) => (string | number)[];
  readonly add: AddIssue;
  /** Queue → the lane (and key) that consumes it, filled lane by lane in file order. */
  readonly consumers: Map<string, { lane: string; where: string }>;
}

/** Its name, and which of queues, workers and groups it gives. */
function laneNameRules({ env, name, lane, at, add }: LaneRuleContext): void {
  const reservedFor = reservedLaneNames(env).get(name);
  if (reservedFor) add(at(), `"${name}" is reserved for ${reservedFor}; give the lane another name`);

  if (lane.groups && lane.queues) {
    add(at('queues'), 'give the queues either here or per group, not both: with groups the lane consumes every queue its groups name');
  } else if (lane.groups && lane.workers !== undefined) {
    add(at('workers'), 'applies to a lane without groups; with groups each group sets its processes');
  }
}

/** Every queue once: never default, never twice, never in two lanes; an SQS lane's its own queue. */
function laneQueueRules({ env, name, lane, at, add, consumers }: LaneRuleContext): void {
  const sqsQueue = queueName(env, name);
  if (lane.broker === 'sqs' && lane.queues && (lane.queues.length !== 1 || lane.queues[0] !== sqsQueue)) {
    add(
      at('queues'),
      `an SQS lane has one queue, ${sqsQueue} (<app>-<env>-<lane>), which the stacks create and its workers must name: set queues: [${sqsQueue}] and dispatch the jobs to that queue`,
    );
  }
  const chains = lane.groups
    ? lane.groups.map((group, g) => ({ queues: group.queues, path: ['groups', g, 'queues'], what: `group "${group.name}"` }))
    : [{ queues: lane.queues ?? [], path: ['queues'], what: 'this lane' }];
  const groupNames = new Set<string>();
  lane.groups?.forEach((group, g) => {
    if (groupNames.has(group.name))
      add(at('groups', g, 'name'), `group "${group.name}" is named twice in this lane; each names its own containers`);
    groupNames.add(group.name);
  });
  for (const chain of chains) {
    chain.queues.forEach((queue, index) => {
      const path = at(...chain.path, index);
      if (queue === 'default') {
        add(path, 'the "default" queue stays on the web hosts; a lane may not consume it');
        return;
      }
      if (chain.queues.indexOf(queue) !== index) {
        add(path, `queue "${queue}" is listed twice in ${chain.what}`);
        return;
      }
      const owner = consumers.get(queue);
      if (owner && owner.lane !== name) {
        add(
          path,
          `queue "${queue}" is already consumed by lane "${owner.lane}" (lanes.${owner.lane}.${owner.where}); a queue belongs to one lane`,
        );
      } else if (!owner) {
        consumers.set(queue, { lane: name, where: `${chain.path.join('.').replace(/\.(\d+)/g, '[$1]')}[${index}]` });
      }
    });
  }
}

/** A Fargate size, and workers that fit it. */
function laneMemoryRules({ lane, groups, at, add }: LaneRuleContext): void {
  const size = fargateSizeProblem(lane.cpu, lane.memory);
  if (size) add(at('memory'), size);

  // Each container's hard limit is an equal share of the task, and each group's --memory must sit
  // under PHP's memory_limit, which sits under that limit (./memory).
  const processes = groups.reduce((sum, group) => sum + group.processes, 0);
  const container = containerMemoryLimit(lane.memory, processes);
  let inheritedTooLarge = false;
  groups.forEach((group, g) => {
    const largest = maxWorkerMemory(group.phpMemoryLimit);
    if (group.job.memory <= largest) return;
    const own = lane.groups?.[g].job?.memory !== undefined;
    if (!own && inheritedTooLarge) return;
    inheritedTooLarge ||= !own;
    const where = own ? at('groups', g, 'job', 'memory') : at('job', 'memory');
    const overhead = container - group.phpMemoryLimit;
    const limits =
      group.phpMemoryLimit > 0
        ? `PHP's memory_limit is ${group.phpMemoryLimit} MiB (the container's ${container} MiB less ${overhead} MiB the PHP processes hold outside their heap), and a job needs room above --memory to grow in before memory_limit stops it: set job.memory to ${Math.max(0, largest)} or below`
        : `the container's ${container} MiB leaves nothing for PHP's heap once the PHP processes take their ${overhead} MiB`;
    add(
      where,
      `${own ? `group "${group.name}": ` : ''}job.memory ${group.job.memory} MB does not fit under each container's hard limit (the task's ${lane.memory} MiB over ${processes} processes): ${limits}, or raise memory or run fewer processes per task`,
    );
  });
}

/** Task counts within each other, the fleet and the guardrail. */
function laneTaskRules({ env, lane, at, add }: LaneRuleContext): void {
  const { baseline, min, max } = lane.tasks;
  if (min > max) add(at('tasks', 'min'), `${min} is above tasks.max (${max})`);
  if (baseline > max) add(at('tasks', 'baseline'), `${baseline} is above tasks.max (${max})`);
  if (max > env.fleet.maxTasks) {
    add(at('tasks', 'max'), `${max} exceeds fleet.maxTasks (${env.fleet.maxTasks})`);
  }
  const guard = env.guardrails.maxTasksBeforeOwned;
  // Only a scaled lane uses tasks.max before owned: at off and baseline it is unused, so a
  // rollback from owned to either is the one-line change the docs promise.
  if (max > guard && lane.stage === 'scaling') {
    add(
      at('tasks', 'max'),
      `${max} exceeds guardrails.maxTasksBeforeOwned (${guard}) while the lane is at stage "${lane.stage}"; keep max at ${guard} or below until the lane is "owned"`,
    );
  }
}

/** Warm windows the backlog controller can keep, for either broker: up to tasks.max. */
function laneWarmRules({ lane, at, add }: LaneRuleContext): void {
  if (lane.warm === undefined) return;
  lane.warm.forEach((window, i) => {
    if (window.tasks > lane.tasks.max) add(at('warm', i, 'tasks'), `${window.tasks} is above tasks.max (${lane.tasks.max})`);
  });
}

/**
 * The job.timeout keys whose groups' timeout is at least `limit`: a group's own key, and the
 * lane's once for every group that takes it; with the message prefix that names the group.
 */
function timeoutsFrom(
  limit: number,
  { lane, groups, at }: LaneRuleContext,
): { path: (string | number)[]; group: string; timeout: number }[] {
  let inheritedTooLong = false;
  return groups.flatMap((group, g) => {
    if (group.job.timeout < limit) return [];
    const own = lane.groups?.[g].job?.timeout !== undefined;
    // Groups that take the lane's job.timeout share one message, at the lane's key.
    if (!own && inheritedTooLong) return [];
    inheritedTooLong ||= !own;
    const path = own ? at('groups', g, 'job', 'timeout') : at('job', 'timeout');
    return [{ path, group: lane.groups ? `group "${group.name}": ` : '', timeout: group.job.timeout }];
  });
}

/** Jobs that finish before their task is stopped, and before SQS hands them out again. */
function laneTimeoutRules(context: LaneRuleContext): void {
  const { lane, groups, at, add } = context;
  if (!lane.scaleInProtection) {
    for (const { path, group, timeout } of timeoutsFrom(lane.stopTimeout, context)) {
      add(
        path,
        `${group}${timeout} s is not below stopTimeout (${lane.stopTimeout} s), so a stopping task would kill a running job; lower job.timeout or set scaleInProtection: true`,
      );
    }
  }
  const longestTimeout = Math.max(0, ...groups.map((group) => group.job.timeout));

  if (lane.broker === 'sqs') {
    const visibility = lane.sqs?.visibilityTimeout ?? SQS_DEFAULTS.visibilityTimeout;
    if (visibility < longestTimeout) {
      add(
        lane.sqs ? at('sqs', 'visibilityTimeout') : at('job', 'timeout'),
        `SQS visibility timeout ${visibility} s is below job.timeout ${longestTimeout} s, so a running job would be delivered twice; set sqs.visibilityTimeout to at least ${longestTimeout}`,
      );
    }
  } else if (lane.sqs) {
    add(at('sqs'), 'applies only to broker "sqs"; remove it or set broker: sqs');
  }
}

/** Whether any of the lane's tasks may run on Fargate Spot. */
function onSpot(lane: LaneRuleContext['lane']): boolean {
  return lane.spot || (lane.capacity ?? []).some((c) => c.provider === 'FARGATE_SPOT');
}

/**
 * Jobs that fit in a Spot interruption's notice: ECS stops a reclaimed Spot task two minutes
 * after the warning, and task protection does not hold off a reclaim; past that only by an
 * explicit allowLongJobsOnSpot.
 */
function laneSpotRules(context: LaneRuleContext): void {
  const { lane, at, add } = context;
  if (!onSpot(lane)) {
    if (lane.allowLongJobsOnSpot)
      add(at('allowLongJobsOnSpot'), 'applies only to a lane on Fargate Spot (spot: true, or a FARGATE_SPOT capacity provider); remove it');
    return;
  }
  if (lane.allowLongJobsOnSpot) return;
  for (const { path, group, timeout } of timeoutsFrom(SPOT_NOTICE_SECONDS + 1, context)) {
    add(
      path,
      `${group}${timeout} s is past the ${SPOT_NOTICE_SECONDS} s a Fargate Spot interruption gives before the task is stopped, and scale-in protection does not hold off a Spot reclaim, so a reclaimed task would kill a running job; lower job.timeout to ${SPOT_NOTICE_SECONDS} or below, run the lane on FARGATE, or set allowLongJobsOnSpot: true if its jobs may be killed and run again`,
    );
  }
}

/** Seconds between a Fargate Spot interruption's warning and the task's stop. */
const SPOT_NOTICE_SECONDS = 120;

/** Capacity providers ECS accepts, and an architecture Spot runs. */
function laneCapacityRules({ lane, at, add }: LaneRuleContext): void {
  if (lane.spot && lane.capacity) {
    add(at('spot'), 'set either spot or capacity, not both (capacity already says which providers to use)');
  }
  if (onSpot(lane) && lane.architecture === 'arm64') {
    add(at('architecture'), 'Fargate Spot does not run arm64 tasks; use x86_64 or turn Spot off');
  }
  if (lane.capacity && !lane.capacity.some((c) => c.weight > 0)) {
    add(at('capacity'), 'at least one capacity provider needs a weight above 0');
  }
  (lane.capacity ?? []).forEach((c, i, all) => {
    if (all.findIndex((other) => other.provider === c.provider) !== i) {
      add(at('capacity', i, 'provider'), `${c.provider} is listed twice; ECS takes each capacity provider once in a strategy`);
    }
  });
  const based = (lane.capacity ?? []).map((c, i) => ({ c, i })).filter(({ c }) => c.base > 0);
  if (based.length > 1) {
    add(
      at('capacity', based[1].i, 'base'),
      `${based.map(({ c }) => c.provider).join(' and ')} both set base; ECS allows a base on one capacity provider only, so keep it on one and set the others to 0`,
    );
  }
}

/** Pausing, the command, and a deployment ECS can make progress with. */
function laneDeploymentRules({ lane, at, add }: LaneRuleContext): void {
  if (lane.paused && lane.stage === 'off') {
    add(at('paused'), 'a lane at stage off runs no tasks, so there is nothing to pause; remove paused or move the lane to baseline');
  }
  if (lane.command && lane.command.length === 0) {
    add(at('command'), 'must not be empty');
  }
  // A single brace opens a placeholder, so "${queues}" would be "$" then the queues: never what
  // "${" means elsewhere, and no literal once the command reaches Terraform (libs/stacks literals).
  lane.command?.forEach((arg, i) => {
    const sigil = /([$%])\{(?!\{)/.exec(arg)?.[1];
    if (sigil)
      add(
        at('command', i),
        `${JSON.stringify(arg)} has "${sigil}{": a single brace in a command opens a placeholder ({queues}), so this reads as "${sigil}" before one; write "${sigil}{{" for a literal "${sigil}{", or leave out the "${sigil}"`,
      );
  });

  const { minimumHealthyPercent, maximumPercent } = lane.deployment;
  if (maximumPercent <= minimumHealthyPercent) {
    add(
      at('deployment', 'maximumPercent'),
      `${maximumPercent} leaves no room for a deployment while minimumHealthyPercent is ${minimumHealthyPercent}: ECS could neither start a new task nor stop an old one; raise maximumPercent or lower minimumHealthyPercent`,
    );
  }
}

/** Every rule of one lane, in the order their messages read best. */
const LANE_RULES: readonly ((context: LaneRuleContext) => void)[] = [
  laneNameRules,
  laneQueueRules,
  laneMemoryRules,
  laneTaskRules,
  laneWarmRules,
  laneTimeoutRules,
  laneCapacityRules,
  laneSpotRules,
  laneDeploymentRules,
];

/** Every rule of the environment outside its lanes, in the order their messages read best. */
const ENVIRONMENT_RULES: readonly ((env: EnvironmentFile, add: AddIssue) => void)[] = [
  fleetRules,
  awsNameRules,
  identifierRules,
  controllerRules,
  logChannelRules,
  stateRules,
  schedulerRules,
  parameterPortRules,
  logRetentionRules,
  runtimeUserRules,
  secretParameterRules,
  alarmSubscriptionRules,
];
