import { MOTO_DIFFERENCES } from './moto-differences';
import { attributeDifferences, explain, planDifferences } from './plan-differences';

describe('plan differences', () => {
  it('lists leaf attributes that differ, unknowns included', () => {
    expect(
      attributeDifferences(
        { name: 'a', tags: { app: 'x' }, ports: [1, 2], arn: 'old', empty: [] },
        { name: 'a', tags: { app: 'y' }, ports: [1, 3], arn: null, empty: null },
        { arn: true },
      ),
    ).toEqual([
      { path: 'arn', before: 'old', after: '(known after apply)' },
      { path: 'ports[1]', before: 2, after: 3 },
      { path: 'tags.app', before: 'x', after: 'y' },
    ]);
  });

  it('reads drift, changes and output changes from tofu show -json, skipping no-ops', () => {
    const plan = {
      resource_drift: [
        {
          address: 'aws_ecs_service.s',
          type: 'aws_ecs_service',
          change: { actions: ['update'], before: { desired_count: 1 }, after: { desired_count: 0 } },
        },
      ],
      resource_changes: [
        { address: 'aws_sqs_queue.q', type: 'aws_sqs_queue', change: { actions: ['no-op'], before: {}, after: {} } },
        {
          address: 'aws_ssm_parameter.p',
          type: 'aws_ssm_parameter',
          change: { actions: ['update'], before: { tier: 'Standard' }, after: { tier: 'Advanced' }, after_unknown: {} },
        },
      ],
      output_changes: { a: { actions: ['no-op'], before: 1, after: 1 }, b: { actions: ['update'], before: 1, after: 2 } },
    };
    const found = planDifferences('st', plan);
    expect(found).toEqual([
      {
        kind: 'drift',
        stack: 'st',
        address: 'aws_ecs_service.s',
        type: 'aws_ecs_service',
        actions: ['update'],
        attributes: [{ path: 'desired_count', before: 1, after: 0 }],
      },
      {
        kind: 'change',
        stack: 'st',
        address: 'aws_ssm_parameter.p',
        type: 'aws_ssm_parameter',
        actions: ['update'],
        attributes: [{ path: 'tier', before: 'Standard', after: 'Advanced' }],
      },
      { kind: 'output', stack: 'st', address: 'output.b', actions: ['update'], attributes: [{ path: '(value)', before: 1, after: 2 }] },
    ]);
  });

  it('explains a difference only by a listed reason', () => {
    const difference = {
      kind: 'change' as const,
      stack: 's',
      address: 'aws_x.y',
      type: 'aws_x',
      actions: ['update'],
      attributes: [
        { path: 'a.b', before: 1, after: 2 },
        { path: 'c', before: 1, after: 2 },
      ],
    };
    expect(explain(difference, [{ type: 'aws_x', path: /^a\./, why: 'moto drops a.b' }])).toEqual(['moto drops a.b', undefined]);
  });

  it('has a reason for every known moto difference', () => {
    for (const known of MOTO_DIFFERENCES) expect(known.why.length).toBeGreaterThan(20);
  });
});
