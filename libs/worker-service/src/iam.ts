/*
 * IAM documents as plain objects, serialized with JSON.stringify (STYLE.md), so
 * checkov and reviewers read literal JSON. No statement grants a `*` action;
 * the only `*` resources are on actions that support no resource scoping
 * (ecr:GetAuthorizationToken, and the ssmmessages channel actions ECS Exec needs).
 */

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

/** The ARN partition of a region: aws, aws-cn or aws-us-gov. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The repository ARN of an ECR image reference
 * (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`), or undefined for any
 * other registry (public ECR and Docker Hub need no pull permissions).
 */
export function ecrRepositoryArn(repository: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)$/.exec(repository);
  if (!match) return undefined;
  const [, account, region, name] = match;
  return `arn:${partitionOf(region)}:ecr:${region}:${account}:repository/${name}`;
}

/**
 * Lets ECS tasks assume the role. Task roles also pin the calling account and
 * ECS resources (confused-deputy protection, as AWS documents for task roles).
 */
export function ecsTasksTrustPolicy(scope?: { readonly partition: string; readonly region: string; readonly accounts: readonly string[] }): PolicyDocument {
  return policyDocument([
    {
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRole',
      ...(scope
        ? {
            Condition: {
              StringEquals: { 'aws:SourceAccount': scope.accounts },
              ArnLike: { 'aws:SourceArn': scope.accounts.map((a) => `arn:${scope.partition}:ecs:${scope.region}:${a}:*`) },
            },
          }
        : {}),
    },
  ]);
}

/** All the Action entries of a document, for tests and validation. */
export function actionsOf(doc: PolicyDocument): string[] {
  return doc.Statement.flatMap((s) => (typeof s.Action === 'string' ? [s.Action] : [...s.Action]));
}
