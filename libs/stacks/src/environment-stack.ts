import { posix } from 'node:path';
import { cloudWorkspaceName, stackName, type EnvironmentConfig, type ResolvedState, type StackRole } from '@queue-lanes/config';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { CloudBackend, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';

/** Provider version the prebuilt @cdktf/provider-aws bindings were generated from. */
export const AWS_PROVIDER_VERSION = '6.25.0';
/** The provider's fully qualified source address, the same under Terraform and OpenTofu. */
export const AWS_PROVIDER_SOURCE = 'registry.terraform.io/hashicorp/aws';

export interface EnvironmentStackProps {
  /** The application's name: the first part of the stack's name, and a default tag. */
  readonly app: string;
  /** The environment's name: part of the stack's name, and a default tag. */
  readonly environment: string;
  /** The region the provider works in. */
  readonly region: string;
  /** The only accounts the provider may act in. */
  readonly allowedAccountIds: readonly string[];
  /** Where the stack's state lives: local, S3 or Terraform Cloud, one state per stack. */
  readonly state: ResolvedState;
  /** Which of the environment's stacks this is; part of its name and state key. */
  readonly role: StackRole;
}

/** One stack's props for one environment, as compose builds them. */
export function environmentStackProps(env: EnvironmentConfig, role: StackRole): EnvironmentStackProps {
  return {
    app: env.app,
    environment: env.environment,
    region: env.region,
    allowedAccountIds: env.allowedAccountIds,
    state: env.state,
    role,
  };
}

/** Tags every resource carries (the `lane` tag is added by the lane's own constructs). */
export function baseTags(env: Pick<EnvironmentStackProps, 'app' | 'environment'>): Record<string, string> {
  return { app: env.app, environment: env.environment, 'managed-by': 'queue-lanes' };
}

/**
 * One stack of an environment: the AWS provider pinned to the environment's
 * region and accounts, default tags, and the environment's state backend with
 * a state of its own, so a change to one stack cannot touch another's resources.
 */
export class EnvironmentStack extends TerraformStack {
  /** Which of the environment's stacks this is. */
  readonly role: StackRole;
  /** The AWS provider every resource in the stack uses. */
  readonly provider: AwsProvider;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    super(scope, stackName(props, props.role));
    this.role = props.role;
    this.provider = new AwsProvider(this, 'aws', {
      region: props.region,
      allowedAccountIds: [...props.allowedAccountIds],
      defaultTags: [{ tags: baseTags(props) }],
    });
    // The prebuilt binding writes a bare "aws" source, and even "hashicorp/aws" means
    // each engine's own registry host, so a state OpenTofu wrote names
    // registry.opentofu.org/hashicorp/aws and Terraform refuses it (and the reverse).
    // With the host written out, both engines record the same provider address and a
    // state moves between them as it is; OpenTofu installs from that host as well.
    this.addOverride('terraform.required_providers.aws', {
      source: AWS_PROVIDER_SOURCE,
      version: AWS_PROVIDER_VERSION,
    });
    configureBackend(this, props);
  }
}

function configureBackend(stack: TerraformStack, props: EnvironmentStackProps): void {
  const { role, state } = props;
  const name = stackName(props, role);
  switch (state.backend) {
    case 'local':
      // Terraform runs in cdktf.out/stacks/<stack>; going up three folders keeps the
      // state beside the app (where cdktf's own default puts it) and lets sibling
      // stacks' remote-state lookups resolve the same relative path.
      new LocalBackend(stack, {
        path: posix.join('..', '..', '..', state.directory, `terraform.${name}.tfstate`),
      });
      return;
    case 's3': {
      const backend = new S3Backend(stack, {
        bucket: state.bucket,
        key: `${state.keyPrefix}/${role}.tfstate`,
        region: state.region,
        encrypt: true,
        ...(state.dynamodbTable ? { dynamodbTable: state.dynamodbTable } : {}),
        ...(state.kmsKeyId ? { kmsKeyId: state.kmsKeyId } : {}),
      });
      // S3-native locking (Terraform ≥ 1.10, OpenTofu ≥ 1.10); cdktf 0.21 has no prop for it.
      backend.addOverride('use_lockfile', true);
      return;
    }
    case 'cloud':
      new CloudBackend(stack, {
        organization: state.organization,
        hostname: state.hostname,
        workspaces: new NamedCloudWorkspace(cloudWorkspaceName(state, role), state.project),
      });
      return;
  }
}
