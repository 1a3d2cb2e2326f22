import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { queueKeys } from '@queue-lanes/contract';
import { REDIS_ERROR_PATTERN } from '@queue-lanes/observability';
import { loadNamedEnvironment } from '@queue-lanes/stacks';
import { stackDependencies, synthesizeToJson } from '@queue-lanes/stacks/testing';
import { shellQuote } from '@queue-lanes/brokers';
import { cdktfCommandProblems } from '../docs/cdktf-commands';
import { renderRunbook } from './runbook';

const root = join(__dirname, '..', '..');
type Json = { resource?: Record<string, Record<string, Record<string, unknown>>> };

/** Every ```sh block of a runbook. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe.each(['staging', 'production'])('the %s runbook', (name) => {
  const env = loadNamedEnvironment(root, name);
  const runbook = renderRunbook(env);
  const stacks = synthesizeToJson(env);
  const names = (role: keyof typeof stacks, type: string, key = 'name') =>
    Object.values((stacks[role] as Json).resource?.[type] ?? {}).map((r) => String(r[key]));

  it('asks ECS about exactly the services the workers stack creates, in the cluster it creates', () => {
    const line = runbook.split('\n').find((l) => l.startsWith('aws ecs describe-services'))!;
    const [cluster] = names('workers', 'aws_ecs_cluster');
    expect(line).toContain(`--cluster ${cluster} `);
    const services = /--services (.*?) \\/.exec(line)![1].split(' ');
    expect(services.sort()).toEqual(names('workers', 'aws_ecs_service').sort());
  });

  it('names only log groups, parameters and alarms the stacks create', () => {
    const groups = new Set([...names('workers', 'aws_cloudwatch_log_group'), ...names('scaling', 'aws_cloudwatch_log_group')]);
    for (const [, group] of runbook.matchAll(/(?:logs tail --region \S+ |--log-group-name |for group in )([^ "$\n]+)/g)) {
      expect(groups).toContain(group);
    }
    const parameters = new Set(names('parameters', 'aws_ssm_parameter'));
    for (const [, parameter] of runbook.matchAll(/get-parameter (?:--region \S+ )(?:--with-decryption )?--name (\S+)/g)) {
      expect(parameters).toContain(parameter);
    }
    const prefix = /--alarm-name-prefix (\S+)/.exec(runbook)![1];
    const alarms = names('scaling', 'aws_cloudwatch_metric_alarm', 'alarm_name');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.startsWith(prefix)).toBe(true);
  });

  it('deploys with commands cdktf accepts: every stack of the environment in one run, which cdktf orders', () => {
    const graph = stackDependencies(env);
    const deploys = [...runbook.matchAll(/\(cd apps\/(\S+) && (npx cdktf deploy [^)]+)\)/g)];
    expect(deploys.length).toBeGreaterThan(0);
    for (const [, app, command] of deploys) {
      expect([app, cdktfCommandProblems(command, graph)]).toEqual([name, []]);
    }
    // The order cdktf derives from the stacks: parameters before workers, workers before scaling.
    expect(graph[`${env.app}-${name}-workers`]).toContain(`${env.app}-${name}-parameters`);
    expect(graph[`${env.app}-${name}-scaling`]).toContain(`${env.app}-${name}-workers`);
  });

  it('is shell that parses, every block', () => {
    const blocks = shellBlocks(runbook);
    expect(blocks.length).toBeGreaterThan(env.lanes.length);
    for (const block of blocks) {
      const check = spawnSync('bash', ['-n'], { input: block, encoding: 'utf8' });
      expect({ block, stderr: check.stderr }).toEqual({ block, stderr: '' });
    }
  });
});

describe('runbook by stage', () => {
  const lanes = [
    `  sync:
    queues: [sync]
    stage: owned
    tasks: { min: 0, max: 4 }`,
    `  image:
    queues: [image]
    stage: scaling
    paused: true
    tasks: { min: 0, max: 2 }`,
    `  bulk:
    queues: [bulk]
    stage: baseline`,
    `  feeds:
    queues: [feeds]
    stage: off`,
  ].join('\n');
  const env = sampleEnvironment(lanes, { guardrails: 'guardrails: { maxTasksBeforeOwned: 4 }' });
  const runbook = renderRunbook(env);

  it('rolls each lane back one stage, and says when the hosts take the queue back', () => {
    expect(runbook).toContain('**sync**: owned → scaling (the host-consumer switch goes back to enabled).');
    expect(runbook).toContain('# in environments/staging.yaml: lanes.sync.stage: scaling');
    expect(runbook).toContain('**image**: scaling → baseline.');
    expect(runbook).toContain('**bulk**: baseline → off.');
    expect(runbook).toContain('**feeds** is at off: nothing to roll back.');
  });

  it('pauses a lane before scaling it by hand, unless it is paused already; an off lane is not offered', () => {
    const scaleSection = runbook.slice(runbook.indexOf('## Scale one lane by hand'), runbook.indexOf('## Roll a lane back'));
    expect(scaleSection).toContain('# in environments/staging.yaml: lanes.sync.paused: true');
    expect(scaleSection).not.toContain('lanes.image.paused: true');
    expect(scaleSection).toContain('**image** (scaling, paused already)');
    expect(scaleSection).toContain('--service propertyfeed-sync --desired-count 4');
    expect(scaleSection).not.toContain('propertyfeed-feeds');
    expect(scaleSection).toContain('Lanes at off (feeds) cannot be paused');
  });

  it("reads Laravel's keys under the configured prefix, hash-tagged in cluster mode", () => {
    expect(runbook).toContain(`rq LLEN '${queueKeys('sync', 'propertyfeed_database_', false).ready}'`);
    const cluster = renderRunbook(
      sampleEnvironment(lanes, { redis: 'redis: { host: queues.cache.internal, keyPrefix: pf-, cluster: true, retryAfter: 180 }' }),
    );
    expect(cluster).toContain("rq ZCARD 'pf-queues:{sync}:reserved'");
    expect(cluster).toContain('redis-cli -h queues.cache.internal -p 6379 --tls -c "$@"');
  });

  it('shows each lane’s timeouts beside retry_after', () => {
    expect(runbook).toContain('redis.retryAfter: 180');
    for (const lane of env.lanes) {
      expect(runbook).toContain(
        `| ${lane.name} | ${lane.workers} on ${lane.queues.join(', ')} | ${lane.job.timeout} s | ${lane.stopTimeout} s | ${lane.job.tries} | `,
      );
    }
  });
});

describe('runbook of SQS lanes', () => {
  const sqsOnly = renderRunbook(
    sampleEnvironment(
      `  feeds:
    broker: sqs
    queues: [propertyfeed-staging-feeds]
    stage: owned
    tasks: { min: 0, max: 3 }`,
      { redis: 'redis: { tls: true }', parameters: 'parameters: { plain: {}, secure: [] }' },
    ),
  );
  const notDraining = sqsOnly.slice(sqsOnly.indexOf('### Queue not draining'));

  it("reads the backlog the one controller measured, and the queue's own attributes", () => {
    expect(notDraining).toContain('--metric-name Backlog --dimensions Name=Environment,Value=staging Name=Lane,Value=feeds');
    expect(notDraining).toContain('aws sqs get-queue-attributes');
    expect(notDraining).toContain('--queue-name propertyfeed-staging-feeds');
  });

  it('says nothing of a Redis key prefix where no Redis lane runs', () => {
    expect(notDraining).not.toContain('key prefix');
  });
});

describe('shellQuote', () => {
  it.each(['plain', "it's", REDIS_ERROR_PATTERN, '%[0-9]+$%', '{ $.detail.group = "service:x" }'])(
    'gives bash back %s unchanged',
    (text) => {
      const echoed = spawnSync('bash', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' });
      expect(echoed.stdout).toBe(text);
    },
  );
});
