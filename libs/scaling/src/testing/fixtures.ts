import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EnvironmentConfig } from '@queue-lanes/config';
import { SAMPLE_BLOCKS, sampleEnvironment } from '@queue-lanes/config/testing';
import { WorkerService, workerServiceProps } from '@queue-lanes/worker-service';
import { Testing, TerraformStack, type TerraformResource } from 'cdktf';
import type { ControllerArchive } from '../controller-archive';
import { WorkerScaling, workerScalingProps, type WorkerScalingProps } from '../worker-scaling';
import { deterministicZip } from '../zip';

/*
 * Shared test setup: an environment file with lanes given verbatim, the workers
 * and scaling constructs in one stack (so cross-construct references resolve to
 * plain Terraform expressions), and the synthesized JSON with small helpers.
 */

export const ACCOUNT = '111111111111';
export const KEY = `arn:aws:kms:eu-west-2:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const CONTROLLER_SG = 'sg-0123456789abcdef9';
export const WORKER_SG = 'sg-0123456789abcdef0';
export const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'];
export const PARAM = (name: string) => `arn:aws:ssm:eu-west-2:${ACCOUNT}:parameter/propertyfeed/staging/env/${name}`;
export const PARAMETERS = { REDIS_HOST: PARAM('REDIS_HOST'), REDIS_PASSWORD: PARAM('REDIS_PASSWORD'), DB_PASSWORD: PARAM('DB_PASSWORD') };

/** A valid staging file: `lanes` verbatim, top-level blocks replaceable or added. */
export function env(lanes: string, overrides: Record<string, string> = {}): EnvironmentConfig {
  return sampleEnvironment(lanes, {
    accounts: `allowedAccountIds: ["${ACCOUNT}"]`,
    network: SAMPLE_BLOCKS.network.replace('[subnet-0123456789abcdef0]', `[${SUBNETS.join(', ')}]`),
    image: `image: { repository: ${ACCOUNT}.dkr.ecr.eu-west-2.amazonaws.com/propertyfeed }`,
    parameters: 'parameters: { plain: { REDIS_HOST: queues.cache.internal }, secure: [DB_PASSWORD, REDIS_PASSWORD] }',
    redis: 'redis: { authParameter: REDIS_PASSWORD, keyPrefix: propertyfeed_database_ }',
    ...overrides,
  });
}

/** A Redis lane at `stage` (tasks 1 at baseline, 0..2 when scaled unless `extra` sets tasks); extra YAML lines appended. */
export function redisLane(name: string, stage: string, extra: string[] = []): string {
  const tasks = extra.some((l) => l.startsWith('tasks:')) ? [] : ['tasks: { baseline: 1, min: 0, max: 2 }'];
  return [`  ${name}:`, `    queues: [${name}]`, `    stage: ${stage}`, ...[...tasks, ...extra].map((l) => `    ${l}`)].join('\n');
}

/** An SQS lane at `stage`, on its own queue (<app>-<env>-<lane>); extra YAML lines appended. */
export function sqsLane(name: string, stage: string, extra: string[] = []): string {
  return [
    `  ${name}:`,
    '    broker: sqs',
    `    queues: [propertyfeed-staging-${name}]`,
    `    stage: ${stage}`,
    ...extra.map((l) => `    ${l}`),
  ].join('\n');
}

let fixture: ControllerArchive | undefined;

/** A tiny Lambda package, so construct tests do not depend on bundling the controller. */
export function fixtureArchive(): ControllerArchive {
  if (fixture) return fixture;
  const zip = deterministicZip([{ name: 'index.js', data: Buffer.from('exports.handler = async () => ({});\n') }]);
  const file = join(mkdtempSync(join(tmpdir(), 'scaling-archive-')), 'controller.zip');
  writeFileSync(file, zip);
  fixture = {
    file,
    handler: 'index.handler',
    sourceCodeHash: createHash('sha256').update(zip).digest('base64'),
    assetHash: createHash('sha256').update(zip).digest('hex').slice(0, 32),
    bytes: zip.length,
  };
  return fixture;
}

export interface Synthesized {
  /** cdk.tf.json as text, for the cdktf matchers. */
  readonly text: string;
  readonly json: Json;
  readonly stack: TerraformStack;
  readonly workers: WorkerService;
  readonly scaling: WorkerScaling;
  /** A resource attribute as it reads in the JSON, e.g. "${aws_ecs_service.x.id}". */
  readonly ref: (resource: TerraformResource, attribute: string) => string;
}

export type Resource = Record<string, unknown>;
export interface Json {
  resource?: Record<string, Record<string, Resource>>;
  data?: Record<string, Record<string, Resource>>;
}

/** The workers and scaling of `e` in one stack, synthesized: the scaling's props from its adapter, `extra` over them. */
export function synth(e: EnvironmentConfig, extra: Partial<WorkerScalingProps> = {}): Synthesized {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  const workers = new WorkerService(
    stack,
    'workers',
    workerServiceProps(e, {
      securityGroupId: WORKER_SG,
      secrets: PARAMETERS,
      kmsKeyArn: KEY,
      parameterReadPolicyJson: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
    }),
  );
  const scaling = new WorkerScaling(stack, 'scaling', {
    ...workerScalingProps(e, {
      laneServiceArns: workers.serviceArns,
      controllerSecurityGroupId: CONTROLLER_SG,
      kmsKeyArn: KEY,
      parameterPathPrefix: '/propertyfeed/staging',
      parameterArns: PARAMETERS,
      controllerArchive: fixtureArchive(),
    }),
    ...extra,
  });
  const text = Testing.synth(stack);
  return { text, json: JSON.parse(text) as Json, stack, workers, scaling, ref };
}

/** A resource attribute as it reads in the JSON, e.g. "${aws_ecs_service.x.id}". */
export function ref(resource: TerraformResource, attribute: string): string {
  return `\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.${attribute}}`;
}

/** Every resource of a type, as written to cdk.tf.json. */
export function resources(json: Json, type: string): Resource[] {
  return Object.values(json.resource?.[type] ?? {});
}

/** The one resource of `type` matching `match`. */
export function one(json: Json, type: string, match: (r: Resource) => boolean = () => true): Resource {
  const found = resources(json, type).filter(match);
  expect(found).toHaveLength(1);
  return found[0];
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, unknown>;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of a policy document given as JSON text. */
export function statements(policy: unknown): Statement[] {
  return (JSON.parse(policy as string) as { Statement: Statement[] }).Statement;
}

export const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
