import { previousReleaseSecrets, secureParameterNames } from './secrets';

describe('secrets through the upgrade to write-only', () => {
  it('writes the secrets back the way the previous release did, for the rehearsal to upgrade', () => {
    const secret = { name: '/pf/staging/env/APP_KEY', type: 'SecureString', key_id: 'alias/pf-staging' };
    const others = {
      plain: { name: '/pf/staging/env/APP_ENV', type: 'String', value: 'staging' },
    };
    const stack = (s: Record<string, unknown>) => ({
      resource: { aws_ssm_parameter: { s, ...others }, aws_kms_key: { k: { description: 'key' } } },
    });
    const current = stack({
      ...secret,
      value_wo: 'placeholder-set-out-of-band',
      value_wo_version: 1,
      description: 'APP_KEY for pf staging; set out of band, write-only in Terraform (never in state)',
      lifecycle: { ignore_changes: ['value', 'value_wo_version'] },
    });
    expect(previousReleaseSecrets(current)).toEqual(
      stack({
        ...secret,
        value: 'placeholder-set-out-of-band',
        description: 'APP_KEY for pf staging; set out of band, Terraform keeps only the placeholder',
        lifecycle: { ignore_changes: ['value'] },
      }),
    );
  });

  it('reads the secret parameters of a stack from its JSON', () => {
    const stack = {
      resource: {
        aws_ssm_parameter: {
          a: { name: '/pf/staging/env/DB_PASSWORD', type: 'SecureString' },
          b: { name: '/pf/staging/env/APP_ENV', type: 'String' },
          c: { name: '/pf/staging/env/APP_KEY', type: 'SecureString' },
        },
      },
    };
    expect(secureParameterNames(stack)).toEqual(['/pf/staging/env/APP_KEY', '/pf/staging/env/DB_PASSWORD']);
    expect(secureParameterNames({})).toEqual([]);
  });
});
