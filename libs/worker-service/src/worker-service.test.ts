// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { SettingError, locateSettingError, type EnvironmentConfig, type JobSettings } from '@queue-lanes/config';
import { SAMPLE_BLOCKS, sampleEnvironment } from '@queue-lanes/config/testing';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsClusterCapacityProviders } from '@cdktf/provider-aws/lib/ecs-cluster-capacity-providers';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { Testing } from 'cdktf';
import { WorkerService, workerServiceProps, type LaneSettings, type WorkerServiceProps } from './index';

const ACCOUNT = '111111111111';
const SG = 'sg-0123456789abcdef0';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];
const KEY = `arn:aws:kms:eu-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const PARAM = (name: string) => `arn:aws:ssm:eu-west-2:${ACCOUNT}:parameter/propertyfeed/staging/env/${name}`;
const SECRETS = { APP_KEY: PARAM('APP_KEY'), DB_PASSWORD: PARAM('DB_PASSWORD'), DB_HOST: PARAM('DB_HOST') };
const READ_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'ReadRuntimeParameters', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: Object.values(SECRETS) },
    { Sid: 'DecryptRuntimeSecrets', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY },
  ],
});
const REPOSITORY = `${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com/propertyfeed`;
const DIGEST = '0123456789abcdef';

/** The environment-wide props every test starts from; no lanes. */
const BASE: WorkerServiceProps = {
  app: 'propertyfeed',
  environment: 'staging',
  region: 'eu-west-2',
  allowedAccountIds: [ACCOUNT],
  image: { repository: REPOSITORY, tag: '2026.11.3' },
  logRetentionDays: 400,
  appRoot: '/var/www/html',
  user: 'www-data',
  parametersDigest: DIGEST,
  securityGroupId: SG,
  subnetIds: SUBNETS,
  secrets: SECRETS,
  kmsKeyArn: KEY,
  parameterReadPolicyJson: READ_POLICY,
  lanes: [],
};

const JOB: JobSettings = { timeout: 90, tries: 3, maxJobs: 500, maxTime: 3600, memory: 512, sleep: 3, backoff: [10, 60] };

/** A lane of one process group (`worker-1` … `worker-<processes>`) on its `queues`, fixed at tasks.baseline unless `over` says otherwise. */
function lane(name: string, over: Partial<LaneSettings> & { readonly processes?: number } = {}): LaneSettings {
  const { processes = 1, ...rest } = over;
  const queues = rest.queues ?? [name];
  return {
    name,
    queues,
    groups: [{ name: 'worker', queues, processes, job: JOB, phpMemoryLimit: 984 }],
    connection: 'redis',
    broker: 'redis',
    stage: 'baseline',
    sizedBy: 'fixed',
    tasks: { baseline: 1, min: 0 },
    cpu: 512,
    memory: 1024,
    architecture: 'x86_64',
    stopTimeout: 120,
    ...rest,
  };
}

const IMAGE_LANE = lane('image', {
  queues: ['image', 'thumbnails'],
  tasks: { baseline: 2, min: 0 },
  cpu: 1024,
  memory: 2048,
  processes: 2,
  stopTimeout: 100,
});

/** BASE with the image lane, and `over` on top. */
function props(over: Partial<WorkerServiceProps> = {}): WorkerServiceProps {
  return { ...BASE, lanes: [IMAGE_LANE], ...over };
}

function synth(p: WorkerServiceProps = props()): string {
  return Testing.synthScope((scope) => {
    new WorkerService(scope, 'workers', p);
  });
}

type Resource = Record<string, unknown>;
type Json = { resource: Record<string, Record<string, Resource>> };

/** Every resource of a type, as written to cdk.tf.json. */
function resources(json: string, type: string): Resource[] {
  return Object.values((JSON.parse(json) as Json).resource[type] ?? {});
}

function one(json: string, type: string, match: (r: Resource) => boolean): Resource {
  const found = resources(json, type).filter(match);
  expect(found).toHaveLength(1);
  return found[0];
}

function service(json: string, name: string): Resource {
  return one(json, 'aws_ecs_service', (r) => r.name === name);
}

function taskDefinition(json: string, family: string): Resource {
  return one(json, 'aws_ecs_task_definition', (r) => r.family === family);
}

interface Container {
  name: string;
  essential: boolean;
  command: string[];
  [key: string]: unknown;
}

function containers(json: string, family: string): Container[] {
  return JSON.parse(taskDefinition(json, family).container_definitions as string) as Container[];
}

function worker(json: string, family: string, name = 'worker-1'): Container {
  const found = containers(json, family).find((c) => c.name === name);
  expect(found).toBeDefined();
  return found!;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** Role policies (by name) attached to a role whose Terraform id contains `roleFragment`. */
function rolePolicy(json: string, roleFragment: string, name: string): Statement[] {
  const policy = one(json, 'aws_iam_role_policy', (r) => r.name === name && typeof r.role === 'string' && r.role.includes(roleFragment));
  return (JSON.parse(policy.policy as string) as { Statement: Statement[] }).Statement;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

describe('the cluster', () => {
  const json = synth();

  it('is <app>-<env> with Container Insights on', () => {
    expect(json).toHaveResourceWithProperties(EcsCluster, {
      name: 'propertyfeed-staging',
      setting: [{ name: 'containerInsights', value: 'enhanced' }],
    });
  });

  it('offers FARGATE and FARGATE_SPOT', () => {
    expect(json).toHaveResourceWithProperties(EcsClusterCapacityProviders, {
      capacity_providers: ['FARGATE', 'FARGATE_SPOT'],
      default_capacity_provider_strategy: [{ capacity_provider: 'FARGATE', base: 0, weight: 1 }],
    });
  });

  it('has ECS Exec off by default: no exec configuration, no exec log group, services without it', () => {
    expect(one(json, 'aws_ecs_cluster', () => true).configuration).toBeUndefined();
    expect(resources(json, 'aws_cloudwatch_log_group').map((g) => g.name)).toEqual(['/ecs/propertyfeed-staging/image']);
    expect(json).toHaveResourceWithProperties(EcsService, { name: 'propertyfeed-image', enable_execute_command: false });
  });
});

describe('stages', () => {
  const lanes = [
    lane('sync', { stage: 'off', sizedBy: 'off' }),
    lane('image', { tasks: { baseline: 2, min: 0 } }),
    lane('feeds', { stage: 'scaling', sizedBy: 'controller', tasks: { baseline: 1, min: 1 } }),
    lane('bulk', { stage: 'owned', sizedBy: 'controller', tasks: { baseline: 1, min: 0 } }),
  ];
  const json = synth(props({ lanes }));

  it('off: keeps the service at 0 tasks, held there by Terraform, with its task definition, roles and log group', () => {
    const s = service(json, 'propertyfeed-sync');
    expect(s.desired_count).toBe(0);
    expect(s.lifecycle).toBeUndefined();
    expect(resources(json, 'aws_ecs_service')).toHaveLength(4);
    expect(resources(json, 'aws_ecs_task_definition').map((t) => t.family)).toContain('propertyfeed-staging-sync');
    expect(resources(json, 'aws_cloudwatch_log_group').map((g) => g.name)).toContain('/ecs/propertyfeed-staging/sync');
    expect(resources(json, 'aws_iam_role')).toHaveLength(8);
  });

  it('never destroys a log group with its logs: retention expires them', () => {
    const groups = resources(synth(props({ lanes, enableEcsExec: true })), 'aws_cloudwatch_log_group');
    expect(groups.length).toBeGreaterThan(4);
    for (const g of groups) expect(g).toMatchObject({ skip_destroy: true, retention_in_days: 400 });
  });

  it('baseline: desired count is tasks.baseline and nothing else owns it (no ignore_changes)', () => {
    const s = service(json, 'propertyfeed-image');
    expect(s.desired_count).toBe(2);
    expect(s.lifecycle).toBeUndefined();
  });

  it('scaling: starts at tasks.min and leaves desired_count to the scaling stack', () => {
    const s = service(json, 'propertyfeed-feeds');
    expect(s.desired_count).toBe(1);
    expect(s.lifecycle).toEqual({ ignore_changes: ['desired_count'] });
  });

  it('owned: starts at tasks.min and leaves desired_count to the controller', () => {
    const s = service(json, 'propertyfeed-bulk');
    expect(s.desired_count).toBe(0);
    expect(s.lifecycle).toEqual({ ignore_changes: ['desired_count'] });
  });

  it('paused: keeps its count and leaves desired_count to the operator, at any stage', () => {
    const paused = synth(props({ lanes: [lane('image', { sizedBy: 'operator', tasks: { baseline: 2, min: 0 } })] }));
    expect(service(paused, 'propertyfeed-image')).toMatchObject({ desired_count: 2, lifecycle: { ignore_changes: ['desired_count'] } });
  });

  it('exposes each lane by name, off included', () => {
    Testing.synthScope((scope) => {
      const w = new WorkerService(scope, 'workers', props({ lanes }));
      expect(Object.keys(w.lanes).sort()).toEqual(['bulk', 'feeds', 'image', 'sync']);
      expect(w.lanes.image.serviceName).toBe('propertyfeed-image');
      expect(w.lanes.image.desiredCount).toBe(2);
      expect(w.lanes.image.scaled).toBe(false);
      expect(w.lanes.bulk.scaled).toBe(true);
      expect(w.lanes.sync.desiredCount).toBe(0);
      expect(w.clusterName).toBe('propertyfeed-staging');
      expect(w.scheduler).toBeUndefined();
      for (const lane of Object.values(w.lanes)) {
        for (const child of [lane.service, lane.taskDefinition, lane.logGroup, lane.executionRole, lane.taskRole]) {
          expect(child).toBeDefined();
        }
      }
    });
  });
});

describe('a lane service', () => {
  const json = synth();
  const s = service(json, 'propertyfeed-image');

  it('runs in the private subnets with the worker security group and no public IP', () => {
    expect(s.network_configuration).toEqual({ subnets: SUBNETS, security_groups: [SG], assign_public_ip: false });
  });

  it('takes other subnets when given', () => {
    const other = synth(props({ subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'] }));
    expect(other).toHaveResourceWithProperties(EcsService, {
      network_configuration: expect.objectContaining({ subnets: ['subnet-0aaaaaaaaaaaaaaaa'] }),
    });
  });

  it('uses platform version LATEST, the circuit breaker with rollback and ECS defaults 100/200', () => {
    expect(json).toHaveResourceWithProperties(EcsService, {
      name: 'propertyfeed-image',
      platform_version: 'LATEST',
      deployment_circuit_breaker: { enable: true, rollback: true },
      deployment_minimum_healthy_percent: 100,
      deployment_maximum_percent: 200,
    });
    expect(s.launch_type).toBeUndefined();
  });

  it('takes the deployment bounds from the lane', () => {
    const custom = synth(props({ lanes: [{ ...IMAGE_LANE, deployment: { minimumHealthyPercent: 50, maximumPercent: 150 } }] }));
    expect(custom).toHaveResourceWithProperties(EcsService, {
      deployment_minimum_healthy_percent: 50,
      deployment_maximum_percent: 150,
    });
  });

  it('propagates tags from the service, enables ECS managed tags and tags the lane', () => {
    expect(json).toHaveResourceWithProperties(EcsService, {
      propagate_tags: 'SERVICE',
      enable_ecs_managed_tags: true,
      tags: { lane: 'image' },
    });
  });

  it('belongs to the cluster and waits for its capacity providers and execution-role policies', () => {
    expect(s.cluster).toMatch(/^\$\{aws_ecs_cluster\.[^.]+\.arn\}$/);
    expect(s.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_ecs_cluster_capacity_providers\./),
        expect.stringMatching(/^aws_iam_role_policy\..*execution-policy/),
        expect.stringMatching(/^aws_iam_role_policy\..*parameter-read-policy/),
      ]),
    );
  });

  it('runs on FARGATE unless the lane gives another strategy', () => {
    expect(s.capacity_provider_strategy).toEqual([{ capacity_provider: 'FARGATE', base: 0, weight: 1 }]);
    const spot = synth(props({ lanes: [{ ...IMAGE_LANE, capacity: [{ provider: 'FARGATE_SPOT', base: 0, weight: 1 }] }] }));
    expect(service(spot, 'propertyfeed-image').capacity_provider_strategy).toEqual([
      { capacity_provider: 'FARGATE_SPOT', base: 0, weight: 1 },
    ]);
  });

  it('takes an explicit capacity strategy with base and weight', () => {
    const capacity = [
      { provider: 'FARGATE', base: 1, weight: 1 },
      { provider: 'FARGATE_SPOT', base: 0, weight: 3 },
    ] as const;
    const mixed = synth(props({ lanes: [{ ...IMAGE_LANE, capacity }] }));
    expect(service(mixed, 'propertyfeed-image').capacity_provider_strategy).toEqual([
      { capacity_provider: 'FARGATE', base: 1, weight: 1 },
      { capacity_provider: 'FARGATE_SPOT', base: 0, weight: 3 },
    ]);
  });
});

describe('a lane task definition', () => {
  const json = synth();
  const family = 'propertyfeed-staging-image';
  const td = taskDefinition(json, family);
  const all = containers(json, family);
  const w1 = worker(json, family, 'worker-1');

  it('is a Fargate task of the lane size, architecture and roles', () => {
    expect(json).toHaveResourceWithProperties(EcsTaskDefinition, {
      family,
      cpu: '1024',
      memory: '2048',
      network_mode: 'awsvpc',
      requires_compatibilities: ['FARGATE'],
      runtime_platform: { operating_system_family: 'LINUX', cpu_architecture: 'X86_64' },
      tags: { lane: 'image' },
    });
    expect(td.execution_role_arn).toMatch(/execution-role.*\.arn\}$/);
    expect(td.task_role_arn).toMatch(/task-role.*\.arn\}$/);
    expect(td.execution_role_arn).not.toBe(td.task_role_arn);
  });

  it('runs on arm64 when the lane says so', () => {
    const arm = synth(props({ lanes: [{ ...IMAGE_LANE, architecture: 'arm64' }] }));
    expect(arm).toHaveResourceWithProperties(EcsTaskDefinition, {
      runtime_platform: expect.objectContaining({ cpu_architecture: 'ARM64' }),
    });
  });

  it('runs `workers` essential worker containers after the init container', () => {
    expect(all.map((c) => [c.name, c.essential])).toEqual([
      ['runtime-dirs', false],
      ['worker-1', true],
      ['worker-2', true],
    ]);
    for (const c of all.slice(1)) expect(c.dependsOn).toEqual([{ containerName: 'runtime-dirs', condition: 'SUCCESS' }]);
  });

  it('runs one image for every role, the role being the command', () => {
    expect(new Set(all.map((c) => c.image))).toEqual(new Set([`${REPOSITORY}:2026.11.3`]));
  });

  it('runs queue:work with the connection, the queues in priority order and the job settings, through the worker entry point', () => {
    expect(w1.command).toEqual([
      'php',
      '-d',
      'memory_limit=984M',
      '/tmp/.queue-lanes/worker.php',
      'queue:work',
      'redis',
      '--queue=image,thumbnails',
      '--tries=3',
      '--timeout=90',
      '--max-jobs=500',
      '--max-time=3600',
      '--memory=512',
      '--sleep=3',
      '--backoff=10,60',
    ]);
    expect(w1.workingDirectory).toBe('/var/www/html');
    expect(worker(json, family, 'worker-2').command).toEqual(w1.command);
  });

  it('runs a lane command template instead when set', () => {
    const custom = synth(
      props({ lanes: [{ ...IMAGE_LANE, command: ['php', 'artisan', 'queue:work', '{connection}', '--queue={queues}', '--force'] }] }),
    );
    expect(worker(custom, family).command).toEqual([
      'php',
      '/tmp/.queue-lanes/worker.php',
      'queue:work',
      'redis',
      '--queue=image,thumbnails',
      '--force',
    ]);
  });

  it('runs artisan inside a sh -c template through the worker entry point too', () => {
    const custom = synth(props({ lanes: [{ ...IMAGE_LANE, command: ['sh', '-c', 'exec php ./artisan queue:work --queue={queues}'] }] }));
    expect(worker(custom, family).command).toEqual([
      'sh',
      '-c',
      'exec php /tmp/.queue-lanes/worker.php queue:work --queue=image,thumbnails',
    ]);
  });

  it('refuses a lane command that runs no artisan, at its key', () => {
    const custom = props({ lanes: [{ ...IMAGE_LANE, command: ['php', 'worker.php', 'queue:work'] }] });
    expect(() => synth(custom)).toThrow(
      'lanes.image.command: "php worker.php queue:work" runs no artisan: a lane\'s workers run artisan through the queue-lanes worker entry point (/tmp/.queue-lanes/worker.php), which counts their jobs from Laravel\'s queue events; run php artisan queue:work',
    );
  });

  it('splits the task memory between the workers as hard limits', () => {
    expect(all.slice(1).map((c) => c.memory)).toEqual([1024, 1024]);
    expect(all[0].memory).toBeUndefined();
  });

  it('gives SIGTERM the lane stop timeout to finish the current job', () => {
    expect(w1.stopTimeout).toBe(100);
  });

  it('has a read-only root filesystem, a non-root user and nothing privileged', () => {
    for (const c of all) {
      expect(c.readonlyRootFilesystem).toBe(true);
      expect(c.privileged).toBeUndefined();
    }
    expect(w1.user).toBe('www-data');
  });

  it('mounts writable task volumes on the Laravel runtime folders and /tmp', () => {
    const volumes = [
      'storage-framework-cache',
      'storage-framework-sessions',
      'storage-framework-views',
      'storage-logs',
      'bootstrap-cache',
      'tmp',
    ];
    expect(td.volume).toEqual(volumes.map((name) => ({ name })));
    expect(w1.mountPoints).toEqual([
      { sourceVolume: 'storage-framework-cache', containerPath: '/var/www/html/storage/framework/cache', readOnly: false },
      { sourceVolume: 'storage-framework-sessions', containerPath: '/var/www/html/storage/framework/sessions', readOnly: false },
      { sourceVolume: 'storage-framework-views', containerPath: '/var/www/html/storage/framework/views', readOnly: false },
      { sourceVolume: 'storage-logs', containerPath: '/var/www/html/storage/logs', readOnly: false },
      { sourceVolume: 'bootstrap-cache', containerPath: '/var/www/html/bootstrap/cache', readOnly: false },
      { sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false },
    ]);
  });

  it('prepares the volumes once as root: seeds them from the image and hands them to the worker user', () => {
    const init = all[0];
    expect(init).toMatchObject({ user: '0', entryPoint: ['/bin/sh', '-c'], essential: false });
    const script = init.command[0];
    expect(script).toContain("cp -a '/var/www/html/bootstrap/cache/.' '/runtime-dirs/bootstrap-cache/'");
    expect(script).toContain("chown -R 'www-data' '/runtime-dirs/bootstrap-cache'");
    expect(script).toContain("chmod 1777 '/runtime-dirs/tmp'");
    expect((init.mountPoints as { sourceVolume: string }[]).map((m) => m.sourceVolume)).toEqual(
      (td.volume as { name: string }[]).map((v) => v.name),
    );
  });

  it('uses the configured app root and user', () => {
    const custom = synth(props({ appRoot: '/app', user: '1000:1000' }));
    const c = worker(custom, family);
    expect(c.user).toBe('1000:1000');
    expect(c.workingDirectory).toBe('/app');
    expect(c.mountPoints).toContainEqual({ sourceVolume: 'bootstrap-cache', containerPath: '/app/bootstrap/cache', readOnly: false });
    expect(containers(custom, family)[0].command[0]).toContain("chown -R '1000:1000' '/runtime-dirs/bootstrap-cache'");
  });

  it('checks that the worker process is alive', () => {
    expect(w1.healthCheck).toEqual({
      command: ['CMD-SHELL', "grep -qs '[q]ueue:work' /proc/[0-9]*/cmdline"],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 30,
    });
  });

  it('restarts a worker in place when queue:work exits after --max-jobs or --max-time, behind an init process', () => {
    expect(w1.restartPolicy).toEqual({ enabled: true, restartAttemptPeriod: 60 });
    expect(w1.linuxParameters).toEqual({ initProcessEnabled: true });
  });

  it('injects the parameters as secrets by ARN (valueFrom), never as values', () => {
    expect(w1.secrets).toEqual([
      { name: 'APP_KEY', valueFrom: PARAM('APP_KEY') },
      { name: 'DB_HOST', valueFrom: PARAM('DB_HOST') },
      { name: 'DB_PASSWORD', valueFrom: PARAM('DB_PASSWORD') },
    ]);
    const plainNames = all.flatMap((c) => ((c.environment ?? []) as { name: string }[]).map((e) => e.name));
    for (const name of Object.keys(SECRETS)) expect(plainNames).not.toContain(name);
  });

  it('sets the lane, its queues, APP_ENV, a stderr log channel (what the log filters read) and the parameters digest as plain environment', () => {
    expect(w1.environment).toEqual([
      { name: 'APP_ENV', value: 'staging' },
      { name: 'LANE', value: 'image' },
      { name: 'LANE_QUEUES', value: 'image,thumbnails' },
      { name: 'LOG_CHANNEL', value: 'stderr' },
      { name: 'QUEUE_LANES_PARAMETERS_DIGEST', value: DIGEST },
    ]);
  });

  it('rolls onto a new task definition when the parameters digest changes', () => {
    const definitions = (digest: string) => containers(synth(props({ parametersDigest: digest })), family);
    expect(definitions(DIGEST)).toEqual(all);
    expect(definitions('fedcba9876543210')).not.toEqual(all);
  });

  it('lets an APP_ENV or LOG_CHANNEL parameter replace the container default', () => {
    const secrets = { ...SECRETS, APP_ENV: PARAM('APP_ENV'), LOG_CHANNEL: PARAM('LOG_CHANNEL') };
    const c = worker(synth(props({ secrets })), family);
    expect((c.environment as { name: string }[]).map((e) => e.name)).toEqual(['LANE', 'LANE_QUEUES', 'QUEUE_LANES_PARAMETERS_DIGEST']);
    expect(c.secrets).toContainEqual({ name: 'APP_ENV', valueFrom: PARAM('APP_ENV') });
    expect(c.secrets).toContainEqual({ name: 'LOG_CHANNEL', valueFrom: PARAM('LOG_CHANNEL') });
  });

  it('logs to the lane log group with a stream prefix', () => {
    const group = `\${aws_cloudwatch_log_group.${Object.keys((JSON.parse(json) as Json).resource.aws_cloudwatch_log_group)[0]}.name}`;
    for (const c of all) {
      expect(c.logConfiguration).toEqual({
        logDriver: 'awslogs',
        options: {
          'awslogs-group': group,
          'awslogs-region': 'eu-west-2',
          'awslogs-stream-prefix': 'image',
          mode: 'non-blocking',
          'max-buffer-size': '25m',
        },
      });
    }
  });

  it('pins an image digest with @', () => {
    const pinned = synth(props({ image: { repository: REPOSITORY, tag: `sha256:${'a'.repeat(64)}` } }));
    expect(worker(pinned, family).image).toBe(`${REPOSITORY}@sha256:${'a'.repeat(64)}`);
  });
});

describe('the lane log group', () => {
  const json = synth();

  it('is /ecs/<app>-<env>/<lane>, KMS-encrypted with the environment key, kept logRetentionDays', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: '/ecs/propertyfeed-staging/image',
      retention_in_days: 400,
      kms_key_id: KEY,
      tags: { lane: 'image' },
    });
  });
});

describe('IAM', () => {
  const json = synth(props({ lanes: [{ ...IMAGE_LANE, scaleInProtection: true }], storage: { bucket: 'acme-media', prefix: 'jobs/' } }));
  const roles = resources(json, 'aws_iam_role');
  const policies = resources(json, 'aws_iam_role_policy');

  it('has a separate execution and task role per lane, named and tagged by lane', () => {
    expect(roles.map((r) => [r.name, r.tags])).toEqual([
      ['propertyfeed-staging-image-execution', { lane: 'image' }],
      ['propertyfeed-staging-image-task', { lane: 'image' }],
    ]);
  });

  it('lets only ECS tasks assume the roles; the task role only from this account', () => {
    const trust = (name: string) => JSON.parse(one(json, 'aws_iam_role', (r) => r.name === name).assume_role_policy as string);
    expect(trust('propertyfeed-staging-image-execution').Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(trust('propertyfeed-staging-image-task').Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'ecs-tasks.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': [ACCOUNT] },
          ArnLike: { 'aws:SourceArn': [`arn:aws:ecs:eu-west-2:${ACCOUNT}:*`] },
        },
      },
    ]);
  });

  it('lets the execution role pull from its ECR repository and write only its log group', () => {
    const statements = rolePolicy(json, 'execution-role', 'pull-and-log');
    expect(statements).toEqual([
      {
        Sid: 'PullImage',
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: `arn:aws:ecr:eu-west-2:${ACCOUNT}:repository/propertyfeed`,
      },
      { Sid: 'RegistryLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'WriteLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^.]+\.arn\}:log-stream:\*$/),
      },
    ]);
  });

  it('needs no ECR permissions for an image outside ECR', () => {
    const hub = synth(props({ image: { repository: 'docker.io/acme/propertyfeed', tag: 'latest' } }));
    const statements = rolePolicy(hub, 'execution-role', 'pull-and-log');
    expect(statements.map((s) => s.Sid)).toEqual(['WriteLogs']);
  });

  it('attaches the parameters read policy to the execution role as given', () => {
    const p = one(json, 'aws_iam_role_policy', (r) => r.name === 'read-parameters');
    expect(p.policy).toBe(READ_POLICY);
    expect(p.role).toMatch(/execution-role/);
  });

  it('lets the task role use objects under the storage prefix only', () => {
    const statements = rolePolicy(json, 'task-role', 'application');
    expect(statements.filter((s) => s.Sid?.includes('Storage'))).toEqual([
      {
        Sid: 'ListStoragePrefix',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::acme-media',
        Condition: { StringLike: { 's3:prefix': ['jobs/*'] } },
      },
      {
        Sid: 'UseStorageObjects',
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        Resource: 'arn:aws:s3:::acme-media/jobs/*',
      },
    ]);
  });

  it('lets a scale-in-protected lane protect only its own cluster tasks', () => {
    const statements = rolePolicy(json, 'task-role', 'application');
    expect(statements.find((s) => s.Sid === 'ProtectOwnTasks')).toEqual({
      Sid: 'ProtectOwnTasks',
      Effect: 'Allow',
      Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
      Resource: [`arn:aws:ecs:eu-west-2:${ACCOUNT}:task/propertyfeed-staging/*`],
    });
  });

  it("lets an SQS lane's task role use its own queue, and the environment key only through SQS", () => {
    const sqs = synth(props({ lanes: [lane('feeds', { broker: 'sqs', queues: ['propertyfeed-staging-feeds'] })] }));
    expect(rolePolicy(sqs, 'task-role', 'application')).toEqual([
      {
        Sid: 'ConsumeLaneQueue',
        Effect: 'Allow',
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
        Resource: [`arn:aws:sqs:eu-west-2:${ACCOUNT}:propertyfeed-staging-feeds`],
      },
      {
        Sid: 'UseLaneQueueKey',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: KEY,
        Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-2.amazonaws.com' } },
      },
    ]);
  });

  it('gives a lane without storage or scale-in protection a task role with no permissions', () => {
    const plain = synth();
    expect(
      resources(plain, 'aws_iam_role_policy')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['pull-and-log', 'read-parameters']);
  });

  it('never grants a "*" action, and "*" resources only where AWS offers no resource type', () => {
    for (const p of policies) {
      for (const s of (JSON.parse(p.policy as string) as { Statement: Statement[] }).Statement) {
        for (const action of list(s.Action)) expect(action).not.toMatch(/\*/);
        if (list(s.Resource).includes('*')) expect(list(s.Action)).toEqual(['ecr:GetAuthorizationToken']);
      }
    }
  });
});

describe('ECS Exec', () => {
  const json = synth(props({ enableEcsExec: true }));

  it('logs and encrypts sessions with the environment key on the cluster', () => {
    expect(json).toHaveResourceWithProperties(EcsCluster, {
      configuration: {
        execute_command_configuration: {
          kms_key_id: KEY,
          logging: 'OVERRIDE',
          log_configuration: {
            cloud_watch_encryption_enabled: true,
            cloud_watch_log_group_name: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^.]*ecs-exec[^.]*\.name\}$/),
          },
        },
      },
    });
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: '/ecs/propertyfeed-staging/ecs-exec',
      retention_in_days: 400,
      kms_key_id: KEY,
    });
  });

  it('enables execute-command on the services', () => {
    expect(json).toHaveResourceWithProperties(EcsService, { name: 'propertyfeed-image', enable_execute_command: true });
  });

  it('gives the SSM agent writable folders, since the root filesystem stays read-only', () => {
    const c = worker(json, 'propertyfeed-staging-image');
    expect(c.readonlyRootFilesystem).toBe(true);
    expect(c.mountPoints).toEqual(
      expect.arrayContaining([
        { sourceVolume: 'var-lib-amazon', containerPath: '/var/lib/amazon', readOnly: false },
        { sourceVolume: 'var-log-amazon', containerPath: '/var/log/amazon', readOnly: false },
      ]),
    );
  });

  it('lets the task role open session channels, write the session log group and decrypt with the key', () => {
    const statements = rolePolicy(json, 'task-role', 'application');
    expect(statements.map((s) => [s.Sid, s.Resource])).toEqual([
      ['EcsExecChannels', '*'],
      ['EcsExecFindLogGroup', [`arn:aws:logs:eu-west-2:${ACCOUNT}:log-group:*`]],
      ['EcsExecWriteSessionLogs', expect.stringMatching(/ecs-exec.*\.arn\}:log-stream:\*$/)],
      ['EcsExecDecryptSessions', KEY],
    ]);
    expect(list(statements[0].Action).every((a) => a.startsWith('ssmmessages:') && !a.includes('*'))).toBe(true);
  });
});

describe('the scheduler', () => {
  const json = synth(props({ scheduler: { cpu: 512, memory: 1024 } }));
  const s = service(json, 'propertyfeed-scheduler');
  const family = 'propertyfeed-staging-scheduler';

  it('is <app>-scheduler pinned to one task, never handed to a scaler', () => {
    expect(s.desired_count).toBe(1);
    expect(s.lifecycle).toBeUndefined();
  });

  it('deploys stop-then-start so two schedulers never run', () => {
    expect(s.deployment_minimum_healthy_percent).toBe(0);
    expect(s.deployment_maximum_percent).toBe(100);
    expect(s.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
  });

  it('runs php artisan schedule:work on regular Fargate with the same hardening', () => {
    expect(s.capacity_provider_strategy).toEqual([{ capacity_provider: 'FARGATE', base: 0, weight: 1 }]);
    expect(s.network_configuration).toEqual({ subnets: SUBNETS, security_groups: [SG], assign_public_ip: false });
    expect(taskDefinition(json, family)).toMatchObject({ cpu: '512', memory: '1024' });
    const c = worker(json, family, 'scheduler');
    expect(c.command).toEqual(['php', 'artisan', 'schedule:work']);
    expect(c).toMatchObject({ readonlyRootFilesystem: true, user: 'www-data', stopTimeout: 120, memory: 1024 });
    expect((c.healthCheck as { command: string[] }).command).toEqual(['CMD-SHELL', "grep -qs '[s]chedule:work' /proc/[0-9]*/cmdline"]);
    expect((c.environment as { name: string }[]).map((e) => e.name)).toEqual(['APP_ENV', 'LOG_CHANNEL', 'QUEUE_LANES_PARAMETERS_DIGEST']);
  });

  it('logs to /ecs/<app>-<env>/scheduler and has its own roles', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/ecs/propertyfeed-staging/scheduler', kms_key_id: KEY });
    expect(resources(json, 'aws_iam_role').map((r) => r.name)).toEqual(
      expect.arrayContaining(['propertyfeed-staging-scheduler-execution', 'propertyfeed-staging-scheduler-task']),
    );
  });

  it('is absent unless its size is given', () => {
    expect(synth()).not.toContain('propertyfeed-scheduler');
  });
});

describe('props validation', () => {
  const build = (over: Partial<WorkerServiceProps>) => () => synth(props(over));

  it('names an unknown command placeholder at its key, which synth turns into a line of the file', () => {
    const bad = props({ lanes: [{ ...IMAGE_LANE, command: ['php', 'artisan', 'queue:work', '--queue={queue}'] }] });
    let error: unknown;
    try {
      synth(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingError);
    expect((error as SettingError).path).toEqual(['lanes', 'image', 'command', 3]);
    expect(() => synth(bad)).toThrow(
      'lanes.image.command[3]: "--queue={queue}" uses the unknown placeholder {queue}; valid: {connection}, {queues}, {tries}, {timeout}, {maxJobs}, {maxTime}, {memory}, {phpMemoryLimit}, {sleep}, {backoff}, {lane} (write "{{" for a literal brace)',
    );
  });

  it('rejects malformed ids and ARNs', () => {
    expect(build({ securityGroupId: 'sg-1' })).toThrow('securityGroupId: "sg-1" is not a security-group id like sg-0123456789abcdef0');
    expect(build({ subnetIds: [] })).toThrow('subnetIds: at least one private subnet is needed');
    expect(build({ kmsKeyArn: 'alias/propertyfeed-staging' })).toThrow(
      'kmsKeyArn: "alias/propertyfeed-staging" is not a KMS key ARN like arn:aws:kms:eu-west-2:111111111111:key/<id> (CloudWatch Logs takes no alias)',
    );
    expect(build({ secrets: { APP_KEY: 'plain-value' } })).toThrow(
      'secrets.APP_KEY: "plain-value" is not an SSM parameter or Secrets Manager ARN',
    );
    expect(build({ secrets: { 'app-key': PARAM('APP_KEY') } })).toThrow('secrets: "app-key" is not an environment-variable name');
  });

  it('takes the ids and key ARNs the environment file takes, and no other lengths or forms', () => {
    // The file refuses these (libs/config ids.ts, kms.ts); the construct once took any length from 8 to 17 and any key id.
    expect(build({ securityGroupId: 'sg-0123456789' })).toThrow(
      'securityGroupId: "sg-0123456789" is not a security-group id like sg-0123456789abcdef0',
    );
    expect(build({ subnetIds: ['subnet-0123456789abc'] })).toThrow(
      'subnetIds: "subnet-0123456789abc" is not a subnet id like subnet-0123456789abcdef0',
    );
    expect(build({ kmsKeyArn: 'arn:aws:kms:eu-west-2:111111111111:key/not-a-key-id' })).toThrow(
      'kmsKeyArn: "arn:aws:kms:eu-west-2:111111111111:key/not-a-key-id" is not a KMS key ARN like arn:aws:kms:eu-west-2:111111111111:key/<id> (CloudWatch Logs takes no alias)',
    );
    expect(build({ securityGroupId: 'sg-01234567', subnetIds: ['subnet-01234567'] })).not.toThrow();
    expect(build({ kmsKeyArn: 'arn:aws:kms:eu-west-2:111111111111:key/mrk-1234abcd1234abcd1234abcd1234abcd' })).not.toThrow();
  });

  it('rejects a parameter that would shadow the lane variables', () => {
    expect(build({ secrets: { ...SECRETS, LANE: PARAM('LANE') } })).toThrow(
      'secrets.LANE: the container sets LANE itself (to "image"); rename the parameter',
    );
  });

  it('rejects a read policy that is not a policy document', () => {
    expect(build({ parameterReadPolicyJson: 'ssm:GetParameters' })).toThrow(
      "parameterReadPolicyJson: is not valid JSON; pass the parameters lib's read policy document",
    );
    expect(build({ parameterReadPolicyJson: '{}' })).toThrow('parameterReadPolicyJson: is not an IAM policy document (no Statement list)');
  });

  it('rejects names IAM would refuse', () => {
    // The environment file already rejects these names; the construct guards
    // callers that build its props some other way.
    const long = { app: 'propertyfeedplatform', environment: 'production-eu', lanes: [lane('image-processing-largest')] };
    expect(build(long)).toThrow(
      'image-processing-largest: the IAM role name propertyfeedplatform-production-eu-image-processing-largest-execution is 69 characters; IAM allows 64: shorten the app, environment or lane name',
    );
  });
});

describe('scale-in protection', () => {
  const family = 'propertyfeed-staging-image';
  const protectedJson = synth(props({ lanes: [{ ...IMAGE_LANE, scaleInProtection: true }] }));
  const plainJson = synth();

  it('runs each worker through the entry point, which the init container writes to the shared /tmp, protecting the task', () => {
    const guarded = worker(protectedJson, family, 'worker-2');
    const plain = worker(plainJson, family, 'worker-2');
    // The same worker command (config lowers its memory_limit for the entry point: see workerServiceProps below).
    expect(guarded.command).toEqual(plain.command);
    expect(guarded.command).toContain('/tmp/.queue-lanes/worker.php');
    expect(guarded.environment).toContainEqual({ name: 'QUEUE_LANES_CONTAINER', value: 'worker-2' });
    expect(guarded.environment).toContainEqual({ name: 'QUEUE_LANES_PROTECTION', value: '1' });
    const init = containers(protectedJson, family).find((c) => c.name === 'runtime-dirs')!;
    const script = (init.command as string[])[0];
    expect(script).toContain("cat > '/runtime-dirs/tmp/.queue-lanes/worker.php' <<'QUEUE_LANES_WORKER_ENTRY'\n<?php");
    expect(script).toContain("chown -R 'www-data' '/runtime-dirs/tmp/.queue-lanes'");
    expect(script).toContain('task-protection/v1/state');
  });

  it('runs a lane without it through the same entry point, which then only counts jobs', () => {
    const plain = worker(plainJson, family);
    expect((plain.command as string[]).slice(0, 4)).toEqual(['php', '-d', 'memory_limit=984M', '/tmp/.queue-lanes/worker.php']);
    expect((plain.environment as { name: string }[]).map((e) => e.name)).not.toContain('QUEUE_LANES_PROTECTION');
    expect((containers(plainJson, family).find((c) => c.name === 'runtime-dirs')!.command as string[])[0]).toContain(
      "cat > '/runtime-dirs/tmp/.queue-lanes/worker.php'",
    );
  });

  it('derives the health check from the worker command, not the entry point', () => {
    expect(worker(protectedJson, family).healthCheck).toEqual(worker(plainJson, family).healthCheck);
  });
});

describe('process groups', () => {
  const sync = lane('sync', {
    queues: ['sync-urgent', 'sync'],
    grouped: true,
    groups: [
      { name: 'urgent', queues: ['sync-urgent'], processes: 1, job: { ...JOB, timeout: 20, tries: 5 }, phpMemoryLimit: 216 },
      { name: 'main', queues: ['sync-urgent', 'sync'], processes: 3, job: { ...JOB, timeout: 60, tries: 3 }, phpMemoryLimit: 216 },
    ],
  });
  const json = synth(props({ lanes: [sync] }));
  const workers = containers(json, 'propertyfeed-staging-sync').filter((c) => c.name !== 'runtime-dirs');

  it('runs one container per process, each group on its own queue chain and job settings', () => {
    expect(workers.map((c) => c.name)).toEqual(['urgent-1', 'main-1', 'main-2', 'main-3']);
    const flag = (c: Container, name: string) => (c.command as string[]).find((a) => a.startsWith(`--${name}=`));
    expect(workers.map((c) => [flag(c, 'queue'), flag(c, 'timeout'), flag(c, 'tries')])).toEqual([
      ['--queue=sync-urgent', '--timeout=20', '--tries=5'],
      ['--queue=sync-urgent,sync', '--timeout=60', '--tries=3'],
      ['--queue=sync-urgent,sync', '--timeout=60', '--tries=3'],
      ['--queue=sync-urgent,sync', '--timeout=60', '--tries=3'],
    ]);
  });

  it('gives every process an equal share of the task, the same stop timeout and a health check', () => {
    for (const c of workers) {
      expect(c).toMatchObject({ memory: 256, stopTimeout: 120 });
      expect(c.healthCheck).toBeDefined();
    }
    expect(service(json, 'propertyfeed-sync')).toBeDefined();
  });
});

describe('ECS limits', () => {
  it('refuses a task definition over the 64 KiB ECS accepts, at the lane key that adds its containers', () => {
    const big = (processes: number, grouped = false) => props({ lanes: [lane('image', { cpu: 4096, memory: 16384, processes, grouped })] });
    let error: unknown;
    try {
      synth(big(32));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingError);
    expect((error as SettingError).path).toEqual(['lanes', 'image', 'workers']);
    expect((error as SettingError).message).toMatch(
      /^lanes\.image\.workers: the task definition of propertyfeed-image would hold \d+ bytes of container definitions \(32 worker containers of \d+ bytes each\), over the 65536 bytes ECS accepts/,
    );
    expect(() => synth(big(32, true))).toThrow(/^lanes\.image\.groups: /);
    // The same lane with 8 workers fits.
    expect(() => synth(big(8))).not.toThrow();
  });
});

describe('workerServiceProps: the props of an environment file', () => {
  const FILE_IMAGE_LANE = [
    '  image:',
    '    queues: [image, thumbnails]',
    '    stage: baseline',
    '    tasks: { baseline: 2, min: 0, max: 2 }',
    '    cpu: 1024',
    '    memory: 2048',
    '    workers: 2',
    '    stopTimeout: 100',
    '    job: { timeout: 90, tries: 3, maxJobs: 500, maxTime: 3600, memory: 512, sleep: 3, backoff: [10, 60] }',
  ].join('\n');
  const network = SAMPLE_BLOCKS.network.replace('[subnet-0123456789abcdef0]', `[${SUBNETS.join(', ')}]`);
  const file = (lanes: string, overrides: Record<string, string> = {}): EnvironmentConfig =>
    sampleEnvironment(lanes, { network, image: `image: { repository: ${REPOSITORY}, tag: "2026.11.3" }`, ...overrides });
  const resources = { securityGroupId: SG, secrets: SECRETS, kmsKeyArn: KEY, parameterReadPolicyJson: READ_POLICY };

  it("reads the file's names, places, image, runtime, logs, subnets and lanes, and takes the other stacks' resources as given", () => {
    const env = file(FILE_IMAGE_LANE);
    expect(workerServiceProps(env, resources)).toEqual({
      ...BASE,
      parametersDigest: env.parametersDigest,
      enableEcsExec: false,
      lanes: [
        {
          ...IMAGE_LANE,
          grouped: false,
          broker: 'redis',
          architecture: 'x86_64',
          scaleInProtection: false,
          deployment: { minimumHealthyPercent: 100, maximumPercent: 200 },
          capacity: [{ provider: 'FARGATE', base: 0, weight: 1 }],
          tasks: { baseline: 2, min: 0, max: 2 },
        },
      ],
    });
  });

  it('gives the scheduler, storage and ECS Exec only where the file turns them on, and logs 365 days by default', () => {
    const env = file(FILE_IMAGE_LANE, {
      logs: 'logs: {}',
      runtime: 'runtime: { enableEcsExec: true, storage: { bucket: acme-media, prefix: jobs/ } }',
      scheduler: 'scheduler: { onHosts: false, service: { enabled: true, cpu: 512, memory: 1024 } }',
    });
    const p = workerServiceProps(env, resources);
    expect(p).toMatchObject({ logRetentionDays: 365, enableEcsExec: true, storage: { bucket: 'acme-media', prefix: 'jobs/' } });
    expect(p.scheduler).toEqual({ cpu: 512, memory: 1024 });
    const plain = workerServiceProps(file(FILE_IMAGE_LANE), resources);
    expect(plain.scheduler).toBeUndefined();
    expect(plain.storage).toBeUndefined();
  });

  it("passes config's PHP memory limit, lower under scale-in protection for the entry point's supervising process", () => {
    const limit = (lanes: string) => workerServiceProps(file(lanes), resources).lanes[0].groups[0].phpMemoryLimit;
    expect(limit(FILE_IMAGE_LANE)).toBe(984);
    expect(limit(`${FILE_IMAGE_LANE}\n    scaleInProtection: true`)).toBe(968);
  });

  it("passes the parameters' digest, which changes with a value and only then", () => {
    const digest = (plain: string) =>
      workerServiceProps(file(FILE_IMAGE_LANE, { parameters: `parameters: { plain: { ${plain} }, secure: [DB_PASSWORD] }` }), resources)
        .parametersDigest;
    expect(digest('DB_HOST: db-1')).toMatch(/^[0-9a-f]{16}$/);
    expect(digest('DB_HOST: db-1')).toBe(digest('DB_HOST: db-1'));
    expect(digest('DB_HOST: db-2')).not.toBe(digest('DB_HOST: db-1'));
    expect(digest('A: 1, B: 2')).toBe(digest('B: 2, A: 1'));
  });

  it("places a lane command's unknown placeholder at its line in the file", () => {
    const text = FILE_IMAGE_LANE.replace('    queues:', '    command: [php, artisan, queue:work, "--queue={queue}"]\n    queues:');
    let error: unknown;
    try {
      synth(workerServiceProps(file(text), resources));
    } catch (e) {
      error = e;
    }
    const yaml = `${Object.values({ ...SAMPLE_BLOCKS }).join('\n')}\nlanes:\n${text}`;
    expect(locateSettingError(yaml, 'environments/staging.yaml', error as SettingError).message).toMatch(
      /^environments\/staging\.yaml:\d+:\d+ lanes\.image\.command\[3\]: "--queue=\{queue\}" uses the unknown placeholder \{queue\}/,
    );
  });
});
