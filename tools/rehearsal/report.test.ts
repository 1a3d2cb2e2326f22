import { secretChecks } from './checks/secrets';
import { MOTO_TARGET } from './testing';
import { renderReport } from './report';

const target = MOTO_TARGET;

describe('rehearsal report', () => {
  const step = (ok = true) => ({ ok, seconds: 1, errors: ok ? [] : ['s: error aws_x.y: boom'] });
  const run = (name: string, planExit = 0) => ({
    name,
    dir: '/tmp/x',
    stateKey: `${name}.tfstate`,
    init: step(),
    apply: { ...step(), added: 2 },
    plan: { ...step(), exitCode: planExit },
    destroy: { ...step(), removed: 2 },
  });
  const base = {
    environment: 'staging',
    engine: 'OpenTofu v1.12.6, hashicorp/aws 6.25.0',
    moto: { endpoint: target.endpoint, accountId: target.accountId, motoVersion: '5.2.5', patches: ['ECS keeps capacityProviderStrategy'] },
    target,
    network: { vpcId: 'vpc-1', privateSubnetIds: ['subnet-1'], redisSecurityGroupId: 'sg-1', auroraSecurityGroupId: 'sg-2' },
    checks: [{ consumer: 'pf-workers', data: 'net', output: 'sg', producer: 'pf-networking', resolved: true, note: 'sg-9' }],
    unsupported: [],
    seconds: 42,
    rollback: { skipped: 'Not rehearsed: every lane is already off.' },
    secrets: { skipped: 'Not rehearsed: the environment has no parameters.secure.' },
    engines: { skipped: 'Not rehearsed: Terraform is not built.' },
    permissions: [
      { stack: 'pf-workers', called: 3, stateKeyUses: ['kms:Decrypt', 'kms:GenerateDataKey'], missing: [], unused: ['ecs:UpdateCluster'] },
    ],
    known: [{ kind: 'drift' as const, type: 'aws_iam_role', path: /^inline_policy/, why: 'policies are separate resources' }],
  };

  it('passes when every stack applies, plans clean and destroys, and lists patches and explained drift', () => {
    const { markdown, ok } = renderReport({
      ...base,
      runs: [run('pf-networking'), run('pf-workers')],
      differences: [
        {
          kind: 'drift',
          stack: 'pf-workers',
          address: 'aws_iam_role.r',
          type: 'aws_iam_role',
          actions: ['update'],
          attributes: [{ path: 'inline_policy[0]', before: undefined, after: { name: 'p' } }],
        },
        { kind: 'drift', stack: 'pf-workers', address: 'aws_ecs_cluster.c', type: 'aws_ecs_cluster', actions: ['update'], attributes: [] },
      ],
    });
    expect(ok).toBe(true);
    expect(markdown).toContain('Nothing: every stack plans clean after apply.');
    expect(markdown).toContain('| pf-workers | aws_iam_role.r | update | inline_policy[0] | (absent) | {"name":"p"} | [1] |');
    expect(markdown).toContain('1. policies are separate resources');
    expect(markdown).toContain('1 more resource(s) differ only as null against empty');
    expect(markdown).toContain('- ECS keeps capacityProviderStrategy');
    expect(markdown).toMatch(/Result: PASSED\.\n$/);
  });

  it('fails on an unexplained planned change, a failed step or an unresolved read', () => {
    const change = {
      kind: 'change' as const,
      stack: 'pf-workers',
      address: 'aws_lambda_function.f',
      type: 'aws_lambda_function',
      actions: ['update'],
      attributes: [{ path: 'dead_letter_config[0]', before: undefined, after: { target_arn: 'arn' } }],
    };
    const changed = renderReport({ ...base, runs: [run('pf-workers', 2)], differences: [change] });
    expect(changed.ok).toBe(false);
    expect(changed.markdown).toContain('| **unexplained** |');
    expect(changed.markdown).toContain('Result: FAILED (1 unexplained planned change(s)).');

    const failed = renderReport({
      ...base,
      runs: [{ ...run('pf-workers'), apply: { ...step(false), added: 0 }, plan: undefined }],
      differences: [],
    });
    expect(failed.ok).toBe(false);
    expect(failed.markdown).toContain('- s: error aws_x.y: boom');
    expect(failed.markdown).toContain('Not every stack was planned again');

    const unresolved = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      checks: [{ ...base.checks[0], resolved: false, note: 'not in state' }],
    });
    expect(unresolved.ok).toBe(false);
    expect(unresolved.markdown).toContain('| pf-workers | net.outputs.sg | pf-networking | **NO** | not in state |');
  });

  it('shows the secrets kept out of state, and fails when one was reset or is in the state', () => {
    const put = { '/pf/staging/env/APP_KEY': 'real-1', '/pf/staging/env/DB_PASSWORD': 'real-2' };
    const kept = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      secrets: { checks: secretChecks({ values: put, expected: put, inState: [] }) },
    });
    expect(kept.ok).toBe(true);
    expect(kept.markdown).toContain('## Secrets stay out of state');
    expect(kept.markdown).toContain('| /pf/staging/env/APP_KEY | the value put out of band | the value put out of band |');
    expect(kept.markdown).toContain('| secret values in the parameters stack state | none | none |');
    const reset = secretChecks({ values: { ...put, '/pf/staging/env/APP_KEY': 'placeholder' }, expected: put, inState: ['real-2'] });
    expect(reset.filter((c) => !c.ok)).toEqual([
      { what: '/pf/staging/env/APP_KEY', expected: 'the value put out of band', found: 'another value', ok: false },
      { what: 'secret values in the parameters stack state', expected: 'none', found: '1 secret value(s)', ok: false },
    ]);
    const failed = renderReport({ ...base, runs: [run('pf-workers')], differences: [], secrets: { checks: reset } });
    expect(failed.ok).toBe(false);
    expect(failed.markdown).toContain('| secret values in the parameters stack state | none | **1 secret value(s)** |');
  });

  it('shows each state crossing engines, and fails when either engine would change something', () => {
    const swap = { stack: 'pf-workers', terraformPlan: 0, terraformWrote: true, tofuPlan: 0, errors: [] };
    const crossed = renderReport({ ...base, runs: [run('pf-workers')], differences: [], engines: { terraform: 'v1.13.3', swaps: [swap] } });
    expect(crossed.ok).toBe(true);
    expect(crossed.markdown).toContain('| pf-workers | exit 0 | ok | exit 0 |');
    const refused = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      engines: {
        terraform: 'v1.13.3',
        swaps: [
          {
            ...swap,
            terraformPlan: 1,
            terraformWrote: false,
            tofuPlan: 1,
            errors: ['pf-workers: error: requires provider registry.opentofu.org/hashicorp/aws'],
          },
        ],
      },
    });
    expect(refused.ok).toBe(false);
    expect(refused.markdown).toContain('| pf-workers | **exit 1** | **FAILED** | **exit 1** |');
    expect(refused.markdown).toContain('- pf-workers: error: requires provider registry.opentofu.org/hashicorp/aws');
  });

  it('shows the rollback and fails when one of its checks or applies does', () => {
    const check = { when: 'after rollback' as const, what: 'service', expected: 'ACTIVE, 0 tasks', found: 'ACTIVE, 0 tasks', ok: true };
    const rollback = {
      lane: 'image',
      from: 'scaling',
      startCount: 2,
      applies: [{ ...step(), stack: 'pf-workers', added: 0, changed: 3, removed: 2 }],
      checks: [check],
    };
    const passed = renderReport({ ...base, runs: [run('pf-workers')], differences: [], rollback });
    expect(passed.ok).toBe(true);
    expect(passed.markdown).toContain('## Roll back image: scaling → off');
    expect(passed.markdown).toContain('The service ran 2 task(s)');
    expect(passed.markdown).toContain('| pf-workers | ok 1.0s | 0 | 3 | 2 |');
    expect(passed.markdown).toContain('| after rollback | service | ACTIVE, 0 tasks | ACTIVE, 0 tasks |');

    const wrong = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      rollback: { ...rollback, checks: [{ ...check, found: 'ACTIVE, 2 tasks', ok: false }] },
    });
    expect(wrong.ok).toBe(false);
    expect(wrong.markdown).toContain('| after rollback | service | ACTIVE, 0 tasks | **ACTIVE, 2 tasks** |');

    const short = renderReport({ ...base, runs: [run('pf-networking'), run('pf-workers')], differences: [], rollback });
    expect(short.ok).toBe(false);

    const denied = renderReport({
      ...base,
      runs: [run('pf-workers')],
      differences: [],
      permissions: [{ stack: 'pf-workers', called: 3, stateKeyUses: [], missing: ['ecs:TagResource'], unused: [] }],
    });
    expect(denied.ok).toBe(false);
    expect(denied.markdown).toContain('| pf-workers | 3 | none | **ecs:TagResource** | none |');

    const unread = renderReport({ ...base, runs: [run('pf-workers')], differences: [], rollback: { failed: 'moto could not be read' } });
    expect(unread.ok).toBe(false);
    expect(unread.markdown).toContain('**FAILED**: moto could not be read');
  });
});
