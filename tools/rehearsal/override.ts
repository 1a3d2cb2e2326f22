/*
 * rehearsal_override.tf.json, beside each stack's cdk.tf.json: the provider pointed at
 * moto and the state in moto's S3, each stack signing with an access key of its own
 * so moto's call log says which stack made each call; and, for the engine with no S3
 * backend, the override that gives each state a local file.
 */
import { FAKE_CREDENTIALS } from './moto';
import { REHEARSAL_STATE_KEY, type MotoTarget, type StackJson } from './rehearsal';

/** The access key id a stack's provider signs with in the rehearsal (moto accepts any). */
export function callerKey(stackName: string): string {
  return `rehearsal.${stackName}`;
}

/**
 * The access key id a stack's state backend (and its remote-state reads) signs with:
 * its own, so the KMS calls S3 makes for its state are that stack's, and apart from
 * its provider's calls (S3 actions are not named after their operations).
 */
export function stateCallerKey(stackName: string): string {
  return `rehearsal-state.${stackName}`;
}

/** S3 backend (and terraform_remote_state) settings that keep state in moto. */
export function s3StateConfig(target: MotoTarget, key: string, stackName: string): Record<string, unknown> {
  return {
    bucket: target.bucket,
    key,
    region: target.region,
    encrypt: true,
    kms_key_id: REHEARSAL_STATE_KEY,
    use_lockfile: true,
    use_path_style: true,
    endpoints: { s3: target.endpoint, sts: target.endpoint, iam: target.endpoint, dynamodb: target.endpoint },
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    ...FAKE_CREDENTIALS,
    access_key: stateCallerKey(stackName),
  };
}

/** The state key a backend (or remote state) block used, as the rehearsal names it in moto. */
export function stateKey(type: string, config: Readonly<Record<string, unknown>>, fallback: string): string {
  if (type === 's3' && typeof config.key === 'string') return config.key;
  if (type === 'local' && typeof config.path === 'string') {
    // terraform.<stack>.tfstate → <stack>.tfstate, the key its own local→s3 override uses.
    const file = config.path.split('/').pop() ?? config.path;
    return file.replace(/^terraform\./, '');
  }
  if (type === 'local') return fallback;
  throw new Error(`a "${type}" backend cannot be rehearsed in moto (only local and s3)`);
}

/**
 * `rehearsal_override.tf.json` for one stack: the AWS provider(s) pointed at moto
 * (every endpoint, fake credentials, no credential/metadata/region checks, path-style
 * S3, moto's account allowed), the state in moto's S3, and every
 * terraform_remote_state read from there. The synthesized JSON itself is untouched.
 */
export function rehearsalOverride(
  stackName: string,
  stack: StackJson,
  target: MotoTarget,
  endpoints: readonly string[],
): Record<string, unknown> {
  const override: Record<string, unknown> = {
    '//': 'Written by tools/rehearsal/rehearse.ts for a rehearsal against moto; never deployed.',
  };
  const providers = stack.provider?.aws;
  if (providers !== undefined) {
    const list = (Array.isArray(providers) ? providers : [providers]) as Record<string, unknown>[];
    override.provider = {
      aws: list.map((original) => ({
        ...(original.alias !== undefined ? { alias: original.alias } : {}),
        ...FAKE_CREDENTIALS,
        // Its own access key id, so moto's call log tells which stack made each call.
        access_key: callerKey(stackName),
        allowed_account_ids: [target.accountId],
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
        s3_use_path_style: true,
        // moto answers at once; a retry loop on an API it lacks would only hide the error.
        max_retries: 1,
        endpoints: [Object.fromEntries(endpoints.map((name) => [name, target.endpoint]))],
      })),
    };
  }
  const backend = Object.entries(stack.terraform?.backend ?? { local: {} })[0];
  override.terraform = { backend: { s3: s3StateConfig(target, stateKey(backend[0], backend[1], `${stackName}.tfstate`), stackName) } };
  const remote = stack.data?.terraform_remote_state;
  if (remote) {
    override.data = {
      terraform_remote_state: Object.fromEntries(
        Object.entries(remote).map(([name, block]) => {
          const type = String(block.backend);
          const config = (block.config ?? {}) as Record<string, unknown>;
          return [name, { backend: 's3', config: s3StateConfig(target, stateKey(type, config, `${name}.tfstate`), stackName) }];
        }),
      ),
    };
  }
  return override;
}

/**
 * The override that gives a stack its state as a local file (terraform.tfstate)
 * and each remote-state read the producer's local file, for the engine that has no
 * S3 backend (the Terraform the rehearsal builds; toolchain.sh says why). Named to
 * sort after rehearsal_override.tf.json, whose backend blocks it replaces.
 */
export function localStateOverride(stack: StackJson, producerFile: (stateKey: string) => string | undefined): Record<string, unknown> {
  const override: Record<string, unknown> = { terraform: { backend: { local: { path: 'terraform.tfstate' } } } };
  const remote = stack.data?.terraform_remote_state;
  if (remote) {
    override.data = {
      terraform_remote_state: Object.fromEntries(
        Object.entries(remote).map(([name, block]) => {
          const key = stateKey(String(block.backend), (block.config ?? {}) as Record<string, unknown>, `${name}.tfstate`);
          const path = producerFile(key);
          if (!path) throw new Error(`remote state ${name} reads ${key}, which no stack of the rehearsal writes`);
          return [name, { backend: 'local', config: { path } }];
        }),
      ),
    };
  }
  return override;
}
