/*
 * IAM documents as plain objects, serialized with JSON.stringify (STYLE.md), so
 * checkov and reviewers read literal JSON, and the ARN/endpoint spellings that
 * differ by partition. Shared by every lib that writes a policy.
 */

export { allows, type AccessRequest } from './evaluate';

/** One statement of an IAM policy document. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: Readonly<Record<string, string | readonly string[]>>;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export function policyDocument(statements: readonly PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** A key policy's first statement: the account administers the key through IAM; without it no role could be granted the key at all. */
export function accountAdministersKey(partition: string, account: string): PolicyStatement {
  return {
    Sid: 'AccountAdministersKey',
    Effect: 'Allow',
    Principal: { AWS: `arn:${partition}:iam::${account}:root` },
    Action: 'kms:*',
    Resource: '*',
  };
}

/**
 * Creating streams in one log group and writing to them: what a role that logs
 * needs, and no more (the group exists before its writer, so no CreateLogGroup).
 */
export function writeLogStreams(sid: string, logGroupArn: string): PolicyStatement {
  return { Sid: sid, Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logGroupArn}:log-stream:*` };
}

/** The ARN partition of a region: aws, aws-cn or aws-us-gov. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** `<service>.<region>.amazonaws.com` (`.com.cn` in China): the value of kms:ViaService and regional service principals. */
export function serviceEndpoint(service: string, region: string): string {
  return `${service}.${region}.${partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** All the Action entries of a document, for tests and validation. */
export function actionsOf(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) => (typeof s.Action === 'string' ? [s.Action] : [...s.Action]));
}
