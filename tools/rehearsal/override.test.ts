import { localStateOverride, rehearsalOverride, stateKey } from './override';
import type { StackJson } from './rehearsal';
import { MOTO_TARGET } from './testing';

const target = MOTO_TARGET;

describe('rehearsal override', () => {
  const stack: StackJson = {
    provider: {
      aws: [
        { region: 'eu-west-2', allowed_account_ids: ['111111111111'] },
        { alias: 'use1', region: 'us-east-1' },
      ],
    },
    terraform: { backend: { s3: { bucket: 'acme-state', key: 'pf/staging/workers.tfstate', region: 'eu-west-2', encrypt: true } } },
    data: {
      terraform_remote_state: {
        'cross-stack-reference-input-pf-staging-networking': {
          backend: 's3',
          config: { bucket: 'acme-state', key: 'pf/staging/networking.tfstate', region: 'eu-west-2' },
        },
      },
    },
  };
  const override = rehearsalOverride('pf-staging-workers', stack, target, ['ecs', 'sts']) as {
    provider: { aws: Record<string, unknown>[] };
    terraform: { backend: { s3: Record<string, unknown> } };
    data: { terraform_remote_state: Record<string, { backend: string; config: Record<string, unknown> }> };
  };

  it("points every provider configuration (aliases too) at moto with fake credentials and moto's account", () => {
    expect(override.provider.aws).toHaveLength(2);
    expect(override.provider.aws[1].alias).toBe('use1');
    for (const provider of override.provider.aws) {
      expect(provider).toEqual(
        expect.objectContaining({
          access_key: 'rehearsal.pf-staging-workers',
          secret_key: 'rehearsal',
          allowed_account_ids: ['123456789012'],
          skip_credentials_validation: true,
          skip_metadata_api_check: true,
          s3_use_path_style: true,
          endpoints: [{ ecs: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566' }],
        }),
      );
      // region and default_tags stay as synthesized: an override replaces only what it names
      expect(provider.region).toBeUndefined();
    }
  });

  it("keeps the state key and moves the state into moto's S3", () => {
    expect(override.terraform.backend.s3).toEqual(
      expect.objectContaining({
        bucket: 'pf-rehearsal',
        key: 'pf/staging/workers.tfstate',
        use_path_style: true,
        use_lockfile: true,
        encrypt: true,
        kms_key_id: 'alias/rehearsal-state',
        // The stack's own key for its state, so the KMS calls S3 makes for it are judged against its deploy policy.
        access_key: 'rehearsal-state.pf-staging-workers',
        endpoints: expect.objectContaining({ s3: 'http://127.0.0.1:4566', sts: 'http://127.0.0.1:4566' }),
      }),
    );
  });

  it("reads every remote state from moto under the producer's key, signed as the reading stack's state", () => {
    const remote = override.data.terraform_remote_state['cross-stack-reference-input-pf-staging-networking'];
    expect(remote.backend).toBe('s3');
    expect(remote.config).toEqual(
      expect.objectContaining({
        bucket: 'pf-rehearsal',
        key: 'pf/staging/networking.tfstate',
        access_key: 'rehearsal-state.pf-staging-workers',
      }),
    );
  });

  it('turns a local backend into a key named after the stack', () => {
    const local: StackJson = {
      provider: { aws: [{}] },
      terraform: { backend: { local: { path: '../../../terraform.pf-staging-networking.tfstate' } } },
      data: { terraform_remote_state: { net: { backend: 'local', config: { path: '../../../terraform.pf-staging-networking.tfstate' } } } },
    };
    const o = rehearsalOverride('pf-staging-workers', local, target, []) as typeof override;
    expect(o.terraform.backend.s3.key).toBe('pf-staging-networking.tfstate');
    expect(o.data.terraform_remote_state.net.config.key).toBe('pf-staging-networking.tfstate');
    expect(stateKey('local', {}, 'fallback.tfstate')).toBe('fallback.tfstate');
  });

  it('refuses a backend moto cannot hold', () => {
    expect(() => rehearsalOverride('x', { terraform: { backend: { cloud: { organization: 'o' } } } }, target, [])).toThrow(
      /"cloud" backend cannot be rehearsed/,
    );
  });

  it('gives the other engine each state as a local file, and each remote-state read its producer’s file', () => {
    const stack = {
      terraform: { backend: { s3: { bucket: 'b', key: 'pf/staging/workers.tfstate' } } },
      data: { terraform_remote_state: { net: { backend: 's3', config: { bucket: 'b', key: 'pf/staging/networking.tfstate' } } } },
    };
    const files: Record<string, string> = { 'pf/staging/networking.tfstate': '../pf-staging-networking/terraform.tfstate' };
    expect(localStateOverride(stack, (key) => files[key])).toEqual({
      terraform: { backend: { local: { path: 'terraform.tfstate' } } },
      data: { terraform_remote_state: { net: { backend: 'local', config: { path: '../pf-staging-networking/terraform.tfstate' } } } },
    });
    expect(() => localStateOverride(stack, () => undefined)).toThrow(
      'remote state net reads pf/staging/networking.tfstate, which no stack of the rehearsal writes',
    );
  });
});
