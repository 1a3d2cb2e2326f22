import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE, PREFIX_LIST_ID, SECURITY_GROUP_ID, SUBNET_ID, VPC_ID } from './ids';
import { STATE_KMS_KEY } from './kms';
import { cronProblem } from './cron';
import { LANE_POLICY_BOUNDS } from './lane-policy';

/*
 * The environment file's schema, declared once: the TypeScript types (z.infer),
 * the runtime validation and environments/schema.json all come from here.
 * Rules that relate several fields live in rules.ts, so this file stays a
 * readable description of the file format.
 */

export const STAGES = ['off', 'baseline', 'scaling', 'owned'] as const;
export type Stage = (typeof STAGES)[number];

export const BROKERS = ['redis', 'sqs'] as const;
export type Broker = (typeof BROKERS)[number];

export const CAPACITY_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;
export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export const FARGATE_CPUS = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;

/** Fargate's memory choices (MiB) for each CPU size. */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

const int = (min: number, max?: number) => {
  const base = z.number().int().min(min);
  return max === undefined ? base : base.max(max);
};

const name = (what: string, maxLength: number) => z.string().max(maxLength).regex(NAME_PATTERN, `${NAME_RULE} (a ${what})`);

const securityGroupId = z.string().regex(SECURITY_GROUP_ID, 'must be a security-group id like sg-0123456789abcdef0');
const subnetId = z.string().regex(SUBNET_ID, 'must be a subnet id like subnet-0123456789abcdef0');
const prefixListId = z.string().regex(PREFIX_LIST_ID, 'must be a prefix-list id like pl-0123456789abcdef0');
/** The AWS regions (commercial, GovCloud and China) as of 2026; a new one is a line here. */
export const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
] as const;
const awsRegion = z.enum(AWS_REGIONS);
/**
 * S3's bucket naming rules: 3-63 characters of lower-case letters, digits, dots
 * and hyphens, starting and ending with a letter or digit, no two dots in a row,
 * not an IP address, none of the prefixes and suffixes S3 reserves.
 */
const BUCKET_SHAPE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const s3BucketName = z
  .string()
  .regex(BUCKET_SHAPE, 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens, like acme-terraform-state')
  // Only names of the right shape get here a second message, so a name gets one.
  .refine(
    (b) =>
      !BUCKET_SHAPE.test(b) ||
      (!b.includes('..') &&
        !/^\d+\.\d+\.\d+\.\d+$/.test(b) &&
        !/^(xn--|sthree-|amzn-s3-demo-)/.test(b) &&
        !/(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(b)),
    {
      message:
        'must be a name S3 allows: no two dots in a row, not an IP address, none of the reserved prefixes (xn--, sthree-) and suffixes (-s3alias, --ol-s3)',
    },
  );
const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment-variable name: letters, digits and underscores, not starting with a digit')
  // Its parameter's name, /<app>/<env>/<name>, must stay within Parameter Store's 1011 characters.
  .max(255);
/** An email address: the HTML living standard's "valid e-mail address", with a dot in the domain as before. */
const EMAIL_ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Text without a newline, a tab or another control character (C0, DEL and C1). */
export const PRINTABLE = /^[^\x00-\x1f\x7f-\x9f]*$/;
/** What a Redis key prefix must be, in the words of its refusal (redis.keyPrefix, REDIS_PREFIX). */
export const KEY_PREFIX_RULE = 'must not contain a newline, a tab or another control character: a key prefix is printable text';
export const queueName = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a queue name of letters, digits, "_", ".", ":" or "-"');

const iamRoleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN like arn:aws:iam::111111111111:role/propertyfeed-web');

const port = (fallback: number) => int(1, 65535).default(fallback);

const localState = z
  .object({
    backend: z.literal('local').meta({ description: 'State files beside the app folder (the default): for trying things and CI, no AWS.' }),
    directory: z
      .string()
      .regex(/^[^/]/, 'must be a relative path (state must not depend on where the repository is checked out)')
      .regex(/^(?!(.*\/)?\.\.(\/|$))/, 'must stay inside the repository: no ".." in the path')
      .default('.')
      .meta({ description: 'Folder for the state files, relative to the app folder.' }),
  })
  .strict();

const s3State = z
  .object({
    backend: z.literal('s3').meta({ description: 'State in S3, one key per stack, encrypted, with S3 lockfile locking.' }),
    bucket: s3BucketName.meta({ description: 'The state bucket (it must exist; versioning recommended).' }),
    region: awsRegion.optional().meta({ description: 'Bucket region; defaults to the environment region.' }),
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_.\-/]+$/, 'must be an S3 key prefix of letters, digits, "_", ".", "-" and "/"')
      .optional()
      .meta({ description: 'Prefix of each stack state key; defaults to <app>/<environment>.' }),
    dynamodbTable: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 letters, digits, "_", "." and "-")')
      .optional()
      .meta({ description: 'Legacy DynamoDB lock table, kept alongside S3 lockfile locking during migration.' }),
    kmsKeyId: z
      .string()
      // The s3 backend and every terraform_remote_state read take a key ARN or an alias; a bare key id fails their validation.
      .regex(
        STATE_KMS_KEY,
        'must be a KMS key ARN (a multi-Region mrk- key too), alias/<name> or an alias ARN; the s3 backend refuses a bare key id, so give its ARN',
      )
      .optional()
      .meta({
        description:
          'The KMS key the state objects are encrypted with; required (state holds every attribute of every resource, and the key policy says who may read it).',
      }),
  })
  .strict();

const cloudState = z
  .object({
    backend: z.literal('cloud').meta({ description: 'Terraform Cloud or Enterprise: one workspace per stack.' }),
    organization: z.string().min(1).meta({ description: 'The Terraform Cloud organization.' }),
    project: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "The project the workspaces belong to; default the organization's default project." }),
    hostname: z
      .string()
      .regex(
        /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/,
        'must be a host name (no scheme, port or path), e.g. app.terraform.io',
      )
      .default('app.terraform.io')
      .meta({ description: 'Terraform Cloud, or your Terraform Enterprise host.' }),
    workspacePrefix: z
      .string()
      // Terraform Cloud's own rule for a workspace's name (its docs, "Workspace naming"): each
      // stack's workspace is <workspacePrefix>-<role>, so a space or a slash fails at init.
      .regex(
        /^[A-Za-z0-9_-]+$/,
        'must be letters, digits, "-" and "_" only: Terraform Cloud names a workspace with no other characters (no spaces or slashes), and each stack\'s workspace is <workspacePrefix>-<stack role>',
      )
      .optional()
      .meta({ description: 'Prefix of the per-stack workspace names; defaults to <app>-<environment>.' }),
  })
  .strict();

export const stateSchema = z
  .discriminatedUnion('backend', [localState, s3State, cloudState])
  .meta({ description: 'Where each stack keeps its Terraform state.' });

const jobSchema = z
  .object({
    timeout: int(1, 86400).default(60).meta({ description: 'queue:work --timeout, seconds.' }),
    tries: int(1, 100).default(3).meta({ description: 'queue:work --tries: attempts before a job fails for good.' }),
    maxJobs: int(0).default(500).meta({ description: 'queue:work --max-jobs; 0 is unlimited.' }),
    maxTime: int(0).default(3600).meta({ description: 'queue:work --max-time, seconds; 0 is unlimited.' }),
    memory: int(32, 30720).default(128).meta({ description: 'queue:work --memory, MB.' }),
    sleep: int(0, 60).default(3).meta({ description: 'queue:work --sleep: seconds between polls of empty queues.' }),
    backoff: z.array(int(0)).min(1).default([0]).meta({ description: 'queue:work --backoff, seconds per try.' }),
  })
  .strict();

/** Queues one lane (or one of its process groups) may consume: every one is read each tick and named on each worker's command line. */
export const MAX_QUEUES_PER_LANE = 50;

/** A process group's own job settings: each one left out is the lane's `job`. */
const groupJobSchema = z
  .object({
    timeout: int(1, 86400).optional().meta({ description: 'queue:work --timeout for this group, seconds.' }),
    tries: int(1, 100).optional().meta({ description: 'queue:work --tries for this group.' }),
    maxJobs: int(0).optional().meta({ description: 'queue:work --max-jobs for this group; 0 is unlimited.' }),
    maxTime: int(0).optional().meta({ description: 'queue:work --max-time for this group, seconds; 0 is unlimited.' }),
    memory: int(32, 30720)
      .optional()
      .meta({ description: "queue:work --memory for this group, MB; must fit its container's share of the task." }),
    sleep: int(0, 60).optional().meta({ description: 'queue:work --sleep for this group, seconds.' }),
    backoff: z.array(int(0)).min(1).optional().meta({ description: 'queue:work --backoff for this group, seconds per try.' }),
  })
  .strict()
  .meta({ description: "Where this group's queue:work flags differ from the lane's job: each key left out is the lane's." });

const processGroupSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$/, 'must be 1-20 lower-case letters, digits and dashes, starting with a letter')
      .meta({ description: 'Names its containers, <name>-1 … <name>-<processes>.' }),
    queues: z
      .array(queueName)
      .min(1)
      .max(MAX_QUEUES_PER_LANE)
      .meta({ description: "This group's queue chain, in priority order (queue:work --queue)." }),
    processes: int(1, 32).default(1).meta({ description: 'queue:work processes (containers) of this group per task.' }),
    job: groupJobSchema.optional(),
  })
  .strict();

const tasksSchema = z
  .object({
    baseline: int(...LANE_POLICY_BOUNDS.minTasks)
      .default(1)
      .meta({ description: 'Fixed task count at stage baseline.' }),
    min: int(...LANE_POLICY_BOUNDS.minTasks)
      .default(0)
      .meta({ description: 'Scaling floor at stages scaling and owned.' }),
    max: int(...LANE_POLICY_BOUNDS.maxTasks)
      .default(1)
      .meta({ description: 'Scaling ceiling at stages scaling and owned.' }),
  })
  .strict();

/** Most warm windows per lane: each is matched every minute of its length, every tick. */
export const MAX_WARM_WINDOWS = 10;

const warmSchema = z
  .object({
    at: z
      .string()
      .superRefine((expression, ctx) => {
        const problem = cronProblem(expression);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta({
        description:
          'When the work arrives: a cron expression in UTC, as the Laravel scheduler entry that dispatches it runs (->dailyAt(\'02:00\') is "0 2 * * *").',
      }),
    tasks: int(...LANE_POLICY_BOUNDS.warmTasks).meta({ description: 'Tasks running when it comes (at most tasks.max).' }),
    minutes: int(...LANE_POLICY_BOUNDS.warmMinutes)
      .default(30)
      .meta({ description: 'Minutes from then the lane keeps at least those tasks; then its backlog alone sizes it.' }),
  })
  .strict();

const capacitySchema = z
  .object({
    provider: z.enum(CAPACITY_PROVIDERS).meta({ description: 'FARGATE (on-demand) or FARGATE_SPOT.' }),
    base: int(0, 100000).default(0).meta({ description: 'Tasks placed on this provider first; one provider of the list may set it.' }),
    weight: int(0, 1000).default(1).meta({ description: 'Share of the tasks beyond the base.' }),
  })
  .strict();

const sqsSchema = z
  .object({
    visibilityTimeout: int(0, 43200).default(300).meta({ description: 'Seconds; at least job.timeout.' }),
    maxReceiveCount: int(1, 1000).default(5).meta({ description: 'Receives before a message moves to the dead-letter queue.' }),
    messageRetentionSeconds: int(60, 1209600)
      .default(345600)
      .meta({ description: 'How long SQS keeps a message, seconds (default 4 days).' }),
  })
  .strict();

/** An SQS lane's settings where its file leaves them out: the schema's own defaults. */
export const SQS_DEFAULTS = sqsSchema.parse({});

const deploymentSchema = z
  .object({
    minimumHealthyPercent: int(0, 100)
      .default(100)
      .meta({ description: 'Share of the desired tasks kept running during a deployment, percent.' }),
    maximumPercent: int(100, 400)
      .default(200)
      .meta({ description: 'Ceiling on running plus starting tasks during a deployment, percent of desired.' }),
  })
  .strict();

/** A lane's deployment bounds where its file leaves them out: the schema's own defaults (ECS's). */
export const DEPLOYMENT_DEFAULTS = deploymentSchema.parse({});

/**
 * Thresholds of a lane's alarms. backlog and oldestJobSeconds default from other
 * lane settings; libs/observability (laneAlarmThresholds) fills them in, so a
 * derived default never shows up as a lane change in the rollout guard.
 */
/**
 * The bounds of each lane alarm threshold, [min, max]: the schema refuses a value
 * outside them at its line, and observability holds callers that skip the schema
 * to the same.
 */
export const LANE_ALARM_LIMITS = {
  backlog: [1, 1_000_000_000],
  backlogMinutes: [1, 1440],
  oldestJobSeconds: [60, 86400],
  restarts: [0, 1000],
  restartWindowMinutes: [1, 1440],
  connectionErrors: [1, 100000],
  failedJobsPerMinute: [1, 100000],
} as const satisfies Record<string, readonly [number, number]>;

const alarmLimit = (key: keyof typeof LANE_ALARM_LIMITS) => int(LANE_ALARM_LIMITS[key][0], LANE_ALARM_LIMITS[key][1]);

const laneAlarmsSchema = z
  .object({
    backlog: alarmLimit('backlog').optional().meta({
      description:
        'Backlog (ready + reserved + due delayed jobs) that fires the backlog alarm once it lasts backlogMinutes; defaults to backlogPerTask × the most tasks the lane runs (tasks.baseline at stage baseline, else tasks.max).',
    }),
    backlogMinutes: alarmLimit('backlogMinutes')
      .default(15)
      .meta({ description: 'Minutes the backlog must stay above alarms.backlog before the alarm fires.' }),
    oldestJobSeconds: alarmLimit('oldestJobSeconds').optional().meta({
      description: 'Age of the oldest ready job, seconds, that fires the oldest-job alarm; defaults to 10 × job.timeout, at least 900.',
    }),
    restarts: alarmLimit('restarts').default(3).meta({
      description:
        'Tasks that may stop on their own (container exited, failed to start) within restartWindowMinutes; one more fires the restarts alarm.',
    }),
    restartWindowMinutes: alarmLimit('restartWindowMinutes')
      .default(15)
      .meta({ description: 'Window, minutes, in which stopped tasks are counted for the restarts alarm.' }),
    connectionErrors: alarmLimit('connectionErrors').default(3).meta({
      description: 'Redis (or Aurora) connection errors logged within 5 minutes that fire the redis-errors (or aurora-errors) alarm.',
    }),
    failedJobsPerMinute: alarmLimit('failedJobsPerMinute').default(5).meta({
      description:
        "Failed job attempts a minute (attempts that threw or failed, from the workers' job lines) that, for 5 minutes in a row, fire the failed-jobs alarm.",
    }),
  })
  .strict();

export const laneSchema = z
  .object({
    broker: z
      .enum(BROKERS)
      .default('redis')
      .meta({ description: "Where the lane's queues live: redis (Laravel's Redis queue) or sqs (one SQS queue per lane)." }),
    connection: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a Laravel connection name from config/queue.php (letters, digits, "_" and "-")')
      .optional()
      .meta({ description: 'Laravel queue connection; defaults to the broker name.' }),
    queues: z
      .array(queueName)
      .min(1)
      .max(MAX_QUEUES_PER_LANE)
      .optional()
      .meta({ description: 'Laravel queues in priority order, every worker process taking them all; or give groups instead.' }),
    groups: z.array(processGroupSchema).min(1).max(8).optional().meta({
      description:
        "Process groups instead of queues and workers: each runs its own queue:work processes on its own queue chain, e.g. one process for sync-urgent and three for sync-urgent,sync, so a burst on sync never takes the urgent queue's last worker. The lane consumes every queue a group names.",
    }),
    stage: z.enum(STAGES).default('off').meta({
      description:
        'Where the lane is in its rollout, one step forward per change: off (the service kept at 0 tasks with its logs and quiet alarms; the hosts consume the queues), baseline (a fixed tasks.baseline), scaling (tasks.min..tasks.max), owned (ECS alone; the host consumers switched off). Rollback is an earlier stage.',
    }),
    paused: z.boolean().default(false).meta({
      description:
        "Only an operator changes the lane's task count: the backlog controller leaves it alone and Terraform ignores desired_count, so `aws ecs update-service --desired-count N` sticks. For an incident; set it back to false to hand the lane back.",
    }),
    tasks: tasksSchema
      .default(tasksSchema.parse({}))
      .meta({ description: 'Task counts: the fixed count at baseline, the floor and ceiling when scaled.' }),
    cpu: z.literal(FARGATE_CPUS).default(512).meta({ description: 'Task CPU units, a Fargate size.' }),
    memory: int(512, 122880).default(1024).meta({ description: 'Task memory, MiB; a valid pair with cpu.' }),
    architecture: z
      .enum(ARCHITECTURES)
      .default('x86_64')
      .meta({ description: "The image's CPU architecture: x86_64 or arm64 (Graviton; not on Spot)." }),
    workers: int(1, 32).optional().meta({
      description:
        'queue:work processes (containers) per task, each taking every queue; default 1. With groups, each group sets its processes.',
    }),
    job: jobSchema
      .default(jobSchema.parse({}))
      .meta({ description: "queue:work's flags for the lane's workers (a group's job overrides them key by key)." }),
    backlogPerTask: int(...LANE_POLICY_BOUNDS.backlogPerTask)
      .default(50)
      .meta({
        description: 'Jobs one task is expected to take: the backlog controller asks for ceil(backlog / backlogPerTask) tasks at least.',
      }),
    maxPickupSeconds: int(...LANE_POLICY_BOUNDS.maxPickupSeconds)
      .default(600)
      .meta({
        description:
          "Redis lanes: seconds a ready job may wait for a worker. The backlog controller takes the age of the lane's oldest running job as the least a job takes and asks for the tasks that start every waiting job within this, when that is more than backlogPerTask asks for (long jobs); tasks.max still caps it. Below the oldest-job alarm's threshold, so the controller acts before anyone is paged.",
      }),
    priority: int(...LANE_POLICY_BOUNDS.priority)
      .optional()
      .meta({ description: 'Lower is served first under the fleet cap; defaults to file order.' }),
    spot: z.boolean().default(false).meta({ description: 'Run on Fargate Spot (shorthand for capacity).' }),
    capacity: z.array(capacitySchema).min(1).optional().meta({ description: 'Explicit capacity-provider strategy; replaces spot.' }),
    allowLongJobsOnSpot: z.boolean().default(false).meta({
      description:
        "Lets a lane on Fargate Spot (spot, or a FARGATE_SPOT capacity provider) have a job.timeout above 120 s, the notice a Spot interruption gives before ECS stops the task. Scale-in protection does not hold off a reclaim, so a job still running then is killed mid-run and runs again once its reservation expires (redis.retryAfter, or the lane's sqs.visibilityTimeout), as one more attempt. Set it only for jobs that are safe to kill and run again; otherwise keep such jobs on FARGATE.",
    }),
    scaleInProtection: z.boolean().default(false).meta({
      description:
        "The task protects itself from scale-in while any of its workers runs a job, and releases the protection when all are idle: the worker entry point (PHP, written to the task's /tmp by the init container, run in place of artisan) takes the protection when Laravel's JobProcessing event starts a job, for that job's own timeout plus a margin, and calls the ECS agent's task-protection endpoint. No change to the application; the image needs PHP's pcntl and posix extensions (queue:work needs pcntl to finish a job on SIGTERM anyway). Lets job.timeout exceed stopTimeout; a Redis lane's job.timeout must still stay below redis.retryAfter, the application's own retry_after, so a long job raises both (the application's first).",
    }),
    stopTimeout: int(2, 120).default(120).meta({ description: 'Seconds between SIGTERM and SIGKILL; Fargate allows at most 120.' }),
    drainMinutes: int(...LANE_POLICY_BOUNDS.drainMinutes)
      .default(15)
      .meta({
        description:
          'The longest an idle lane keeps its last task before it scales to zero. The backlog controller lets it go sooner when its jobs come further apart than a cold start costs (about 2.5 minutes).',
      }),
    warm: z.array(warmSchema).max(MAX_WARM_WINDOWS).optional().meta({
      description:
        "The times the lane's work arrives (the nightly feed import, say) and the tasks it wants then: the backlog controller has them running when the time comes and keeps them for the window, and still scales by backlog. Used from stage scaling on, like tasks.min and tasks.max.",
    }),
    command: z.array(z.string().regex(/./, 'must not be empty: an empty argument reaches the program as one')).min(1).optional().meta({
      description:
        "Overrides the queue:work command template; placeholders {connection} {queues} {tries} {timeout} {maxJobs} {maxTime} {memory} {phpMemoryLimit} {sleep} {backoff} {lane}. Start it with php -d memory_limit={phpMemoryLimit}M (as the default does) so a job that outgrows its heap ends with a logged error, not a silent kill at the container's hard limit.",
    }),
    sqs: sqsSchema.optional().meta({ description: 'Queue settings for broker sqs.' }),
    deployment: deploymentSchema
      .default(deploymentSchema.parse({}))
      .meta({ description: 'Rolling-deployment bounds of the lane service (ECS defaults 100/200).' }),
    alarms: laneAlarmsSchema
      .default(laneAlarmsSchema.parse({}))
      .meta({ description: "Thresholds of the lane's alarms (a lane at stage off keeps them, with their actions disabled)." }),
  })
  .strict()
  // Checked with the other keys' problems (when), so a misspelt queues key and its absence show together.
  .refine((lane) => lane === null || typeof lane !== 'object' || lane.queues !== undefined || lane.groups !== undefined, {
    path: ['queues'],
    message: 'is required (a list of queues in priority order), or groups, each with its own queues',
    when: () => true,
  });

const networkSchema = z
  .object({
    vpcId: z
      .string()
      .regex(VPC_ID, 'must be a VPC id like vpc-0123456789abcdef0')
      .meta({ description: 'The VPC the application already runs in.' }),
    privateSubnetIds: z
      .array(subnetId)
      .min(1)
      .meta({ description: 'Private subnets for the worker tasks and the controller (no public IPs).' }),
    redis: z
      .object({
        securityGroupId: securityGroupId.meta({
          description: "Redis's security group: the workers' and the controller's groups are admitted to it.",
        }),
        port: port(6379).meta({ description: 'The Redis port.' }),
      })
      .strict()
      .meta({ description: 'The ElastiCache Redis that holds the queues.' }),
    aurora: z
      .object({
        securityGroupId: securityGroupId.meta({ description: "Aurora's security group: the workers' group is admitted to it." }),
        port: port(3306).meta({ description: 'The Aurora (MySQL) port.' }),
      })
      .strict()
      .meta({ description: 'The Aurora cluster the jobs use.' }),
    httpsEgress: z
      .object({
        prefixListIds: z
          .array(prefixListId)
          .default([])
          .meta({ description: 'Prefix lists HTTPS may go to (e.g. the S3 gateway endpoint).' }),
        securityGroupIds: z
          .array(securityGroupId)
          .default([])
          .meta({ description: "Interface endpoints' security groups HTTPS may go to." }),
      })
      .strict()
      .optional()
      .meta({ description: 'Where HTTPS egress goes (VPC endpoints or prefix lists); default 443 to anywhere.' }),
  })
  .strict();

const parametersSchema = z
  .object({
    plain: z
      .record(
        envVarName,
        z.union([
          // A container's environment cannot hold a NUL byte, nor can Parameter Store.
          z.string().regex(/^[^\0]*$/, 'must not contain a NUL byte'),
          z.number(),
          z.boolean(),
        ]),
      )
      .default({})
      .meta({ description: 'Plain runtime parameters, managed from this file.' }),
    secure: z
      .array(envVarName)
      .default([])
      .meta({ description: 'SecureString parameters created as placeholders; values are set out of band.' }),
  })
  .strict();

const redisSchema = z
  .object({
    host: z.string().min(1).optional().meta({
      description:
        "Endpoint the backlog controller reads the queues from (cluster mode: the configuration endpoint); defaults to parameters.plain.REDIS_HOST, the workers' own setting.",
    }),
    tls: z.boolean().default(true).meta({ description: 'In-transit encryption (ElastiCache TransitEncryptionEnabled).' }),
    cluster: z.boolean().default(false).meta({ description: 'Cluster mode: Laravel hash-tags the queue keys, queues:{q}.' }),
    database: int(0, 15).default(0).meta({ description: "The queue connection's database (REDIS_DB); 0 in cluster mode." }),
    keyPrefix: z
      .string()
      // Laravel's prefix is a name (Str::slug of APP_NAME, or REDIS_PREFIX): a control character in it is a copy-paste
      // slip, and it would land in every key the controller reads and in the alarms that quote the prefix.
      .regex(PRINTABLE, KEY_PREFIX_RULE)
      .optional()
      .meta({
        description:
          "The queue connection's key prefix, config('database.redis.options.prefix') in the application (print it with php artisan tinker --execute=\"echo config('database.redis.options.prefix');\"). Required while a Redis lane runs, unless parameters.plain.REDIS_PREFIX sets it: Laravel derives a default from APP_NAME that changed in laravel/laravel v12.1.0 (my_app_database_ before, my-app-database- since), and a wrong prefix reads as empty queues. Horizon's own prefix does not apply to its queues. May be empty.",
      }),
    probeOtherPrefixes: z.boolean().default(true).meta({
      description:
        "While every queue of a lane reads empty, the controller looks for the lane's keys under another prefix (a bounded SCAN every few minutes) and, finding them, alarms and holds the lane's count. Turn off only for a Redis shared with another application whose queues have the same names.",
    }),
    retryAfter: int(1, 604800).nullable().default(90).meta({
      description:
        "The queue connection's retry_after, seconds (config/queue.php, REDIS_QUEUE_RETRY_AFTER; 90 in laravel/laravel): when a reserved job's reservation expires and the job runs again. Must be above every Redis lane's job.timeout. null: reservations never expire, so a job whose worker died stays reserved; the controller reports those as stuck instead of keeping a task for them.",
    }),
    username: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'ACL user (ElastiCache RBAC); omit to authenticate with the AUTH token alone.' }),
    authParameter: envVarName.optional().meta({
      description:
        'The parameters.secure entry holding the Redis AUTH token (e.g. REDIS_PASSWORD), which the controller reads at cold start; omit when Redis has no AUTH.',
    }),
  })
  .strict();

const controllerSchema = z
  .object({
    wakeInvokerRoleArns: z.array(iamRoleArn).default([]).meta({
      description:
        'IAM roles (the application\'s) allowed to invoke the backlog controller, asynchronously, with { "wake": ["<lane>"] } after dispatching to a lane at zero tasks.',
    }),
  })
  .strict();

const schedulerSchema = z
  .object({
    onHosts: z.boolean().default(true).meta({ description: 'The web hosts run schedule:run from cron.' }),
    service: z
      .object({
        enabled: z
          .boolean()
          .default(false)
          .meta({ description: 'Run php artisan schedule:work as exactly one ECS task (set onHosts: false too).' }),
        cpu: z.literal([256, 512, 1024]).default(256).meta({ description: "The scheduler task's CPU units." }),
        memory: int(512, 4096).default(512).meta({ description: "The scheduler task's memory, MiB." }),
      })
      .strict()
      .default({ enabled: false, cpu: 256, memory: 512 })
      .meta({ description: 'The scheduler as an ECS service instead of cron on the hosts.' }),
  })
  .strict();

const storageSchema = z
  .object({
    bucket: s3BucketName.meta({ description: 'The bucket the workers and the scheduler read and write.' }),
    prefix: z
      .string()
      .regex(/^([A-Za-z0-9_.-]+\/)*$/, 'must be empty (the whole bucket) or a key prefix ending in "/", like jobs/')
      .default('')
      .meta({ description: 'Key prefix the workers may use; empty grants the whole bucket.' }),
  })
  .strict();

const runtimeSchema = z
  .object({
    appRoot: z
      .string()
      .regex(
        /^(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)+$/,
        'must be an absolute path without a trailing slash or a "." or ".." part, like /var/www/html',
      )
      .default('/var/www/html')
      .meta({ description: "The Laravel application's folder in the image; its runtime folders are mounted writable under it." }),
    user: z
      .string()
      .regex(
        /^([a-z_][a-z0-9_-]*|\d+)(:([a-z_][a-z0-9_-]*|\d+))?$/,
        'must be a user name or uid, optionally with a group, like www-data or 1000:1000',
      )
      .default('www-data')
      .meta({ description: 'Non-root user every container runs as (name or uid, optionally :group).' }),
    enableEcsExec: z
      .boolean()
      .default(false)
      .meta({ description: 'Allow aws ecs execute-command into the containers; sessions are logged and KMS-encrypted.' }),
    storage: storageSchema.optional().meta({ description: 'S3 bucket (and key prefix) the workers and the scheduler may read and write.' }),
  })
  .strict();

const subscriptionSchema = z
  .discriminatedUnion('protocol', [
    z
      .object({
        protocol: z.literal('email').meta({ description: 'Deliver to an email address (the owner confirms the subscription).' }),
        endpoint: z
          .string()
          // An address SNS can deliver to: ASCII, no control, format or space character (the fuzzing found "\u202e" accepted).
          .regex(EMAIL_ADDRESS, 'must be an email address like oncall@example.com')
          .meta({ description: 'The address.' }),
      })
      .strict(),
    z
      .object({
        protocol: z.literal('https').meta({ description: 'Deliver to an https endpoint that confirms the subscription.' }),
        endpoint: z
          .string()
          .regex(/^https:\/\/[^\s/?#]+[^\s]*$/, 'must be an https:// URL like https://hooks.example.com/alarms')
          .meta({ description: 'The URL.' }),
      })
      .strict(),
    z
      .object({
        protocol: z.literal('sqs').meta({ description: 'Deliver to an SQS queue (standard, not FIFO).' }),
        endpoint: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:sqs:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_-]{1,80}$/,
            'must be the ARN of a standard (not FIFO) SQS queue like arn:aws:sqs:eu-west-2:111111111111:alarms',
          )
          .meta({ description: 'The queue ARN.' }),
      })
      .strict(),
    z
      .object({
        protocol: z.literal('lambda').meta({ description: 'Deliver to a Lambda function.' }),
        endpoint: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$/,
            'must be a Lambda function ARN like arn:aws:lambda:eu-west-2:111111111111:function:notify',
          )
          .meta({ description: 'The function ARN.' }),
      })
      .strict(),
  ])
  .meta({ description: 'One recipient of the alarm topic: protocol email, https, sqs or lambda, and its endpoint.' });

const alarmsSchema = z
  .object({
    subscriptions: z
      .array(subscriptionSchema)
      .default([])
      .meta({ description: 'Who the alarm topic notifies; email and https recipients confirm their subscription first.' }),
  })
  .strict();

export const environmentSchema = z
  .object({
    app: name('app name', 20).meta({ description: 'The application: the first part of every resource name (<app>-<env>-…).' }),
    environment: name('environment name', 20).meta({ description: 'The environment; the file must be environments/<environment>.yaml.' }),
    region: awsRegion.meta({ description: 'The AWS region every stack deploys to.' }),
    allowedAccountIds: z
      .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
      .min(1)
      .meta({ description: 'The AWS accounts the provider may act in: a plan with other credentials fails.' }),
    state: stateSchema.default({ backend: 'local', directory: '.' }),
    network: networkSchema.meta({ description: 'The existing network the lanes run in, and what they reach.' }),
    image: z
      .object({
        repository: z
          .string()
          .max(255)
          .regex(
            /^([a-z0-9.-]+(:\d+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
            'must be an image repository (no tag), like 111111111111.dkr.ecr.eu-west-2.amazonaws.com/propertyfeed',
          )
          .meta({ description: 'The image repository, without tag: an ECR repository URI or another registry path.' }),
        tag: z
          .string()
          .regex(
            /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$/,
            'must be an image tag (letters, digits, _ . -, at most 128) or a sha256: digest',
          )
          .default('latest')
          .meta({ description: 'The image tag, or a sha256: digest to pin the exact image.' }),
      })
      .strict()
      .meta({ description: 'One image for every role; the role is the container command.' }),
    parameters: parametersSchema.default({ plain: {}, secure: [] }).meta({
      description:
        'Runtime variables of the workers, as SSM parameters under /<app>/<env>/env/: plain values, and secrets set out of band.',
    }),
    redis: redisSchema.default(redisSchema.parse({})).meta({
      description: 'How the backlog controller reaches the Redis that holds the Laravel queues (every Redis lane past stage off).',
    }),
    controller: controllerSchema.default(controllerSchema.parse({})).meta({
      description:
        'The backlog controller Lambda, created when a lane is past stage off: it measures every such lane, Redis or SQS, and sizes those at stages scaling and owned.',
    }),
    logs: z
      .object({
        retentionDays: int(1).default(365).meta({
          description:
            "Days CloudWatch keeps every log group of the environment: one of the values it offers, and 365 or more, since checkov's CKV_AWS_338 (which the test command runs on every stack) refuses a log group kept less than a year.",
        }),
      })
      .strict()
      .default({ retentionDays: 365 })
      .meta({ description: 'Log retention.' }),
    alarms: alarmsSchema
      .default({ subscriptions: [] })
      .meta({ description: 'The alarm topic <app>-<env>-alarms, which every alarm and its recovery notify.' }),
    fleet: z
      .object({
        maxTasks: int(...LANE_POLICY_BOUNDS.fleetMaxTasks).meta({
          description: 'Worker tasks of the environment at most, all lanes together.',
        }),
      })
      .strict()
      .meta({ description: 'The whole fleet of worker tasks.' }),
    guardrails: z
      .object({
        maxTasksBeforeOwned: int(1).default(2).meta({
          description:
            'tasks.max allowed while a lane scales before it is owned (stage scaling, the hosts still consuming its queues); at off and baseline tasks.max is unused, so a rollback from owned is one change.',
        }),
        oneLaneAtATime: z
          .boolean()
          .default(false)
          .meta({ description: 'The rollout guard allows one lane to change per change, and alarms must reach someone.' }),
      })
      .strict()
      .default({ maxTasksBeforeOwned: 2, oneLaneAtATime: false })
      .meta({ description: 'Rollout guardrails.' }),
    scheduler: schedulerSchema.default(schedulerSchema.parse({})).meta({ description: 'Where php artisan schedule runs.' }),
    runtime: runtimeSchema.default(runtimeSchema.parse({})).meta({ description: 'How the application image runs on ECS, for every role.' }),
    lanes: z
      .record(name('lane name', 24), laneSchema)
      .default({})
      .meta({ description: 'The lanes: each a class of heavy queue work with its own ECS service.' }),
  })
  .strict()
  .meta({ title: 'queue-lanes environment', description: 'One environment of queue-lanes.' });

/** The file as written (optional keys may be absent). */
export type EnvironmentInput = z.input<typeof environmentSchema>;
/** The file with every default applied. */
export type EnvironmentFile = z.output<typeof environmentSchema>;
export type LaneFile = z.output<typeof laneSchema>;
/** One recipient of the alarm topic. */
export type AlarmSubscription = z.output<typeof subscriptionSchema>;
export type StateConfig = z.output<typeof stateSchema>;
