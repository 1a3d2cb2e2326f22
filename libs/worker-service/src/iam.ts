/*
 * The worker-specific IAM pieces: ECR pull scope and the ECS tasks trust
 * policy. No statement grants a `*` action; the only `*` resources are on
 * actions that support no resource scoping (ecr:GetAuthorizationToken, and the
 * ssmmessages channel actions ECS Exec needs).
 */

import { partitionOf, policyDocument, type PolicyDocument } from '@queue-lanes/iam-policy';

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
export function ecsTasksTrustPolicy(scope?: {
  readonly partition: string;
  readonly region: string;
  readonly accounts: readonly string[];
}): PolicyDocument {
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
