import { callerKey, stateCallerKey } from '../override';
import { calledActions, stateKeyUses } from './permissions';

describe('called actions', () => {
  it("turns moto's call log into each stack's IAM actions, CloudWatch under its IAM prefix, other callers left out", () => {
    const calls = [
      { caller: callerKey('pf-workers'), service: 'ecs', operation: 'DescribeServices' },
      { caller: callerKey('pf-workers'), service: 'ecs', operation: 'DescribeServices' },
      { caller: callerKey('pf-workers'), service: 'iam', operation: 'GetRole' },
      { caller: callerKey('pf-scaling'), service: 'monitoring', operation: 'PutMetricAlarm' },
      { caller: 'rehearsal', service: 's3', operation: 'GetObject' },
    ];
    expect(calledActions(calls, ['pf-networking', 'pf-workers', 'pf-scaling'])).toEqual({
      'pf-networking': [],
      'pf-workers': ['ecs:DescribeServices', 'iam:GetRole'],
      'pf-scaling': ['cloudwatch:PutMetricAlarm'],
    });
  });
});

describe("the state key's uses", () => {
  const key = 'arn:aws:kms:eu-west-2:123456789012:key/0b1c2d3e-0000-4000-8000-000000000001';
  /** A KMS call S3 made for pf-workers' state backend, by key ARN with the state key's alias. */
  const viaS3 = (operation: string) => ({
    caller: stateCallerKey('pf-workers'),
    service: 'kms',
    operation,
    via: 's3',
    resource: key,
    aliases: ['alias/rehearsal-state'],
  });

  it("are the KMS calls S3 made for each stack's state backend, each once, by key ARN with the key's aliases", () => {
    const calls = [
      { caller: stateCallerKey('pf-workers'), service: 's3', operation: 'PutObject' },
      viaS3('GenerateDataKey'),
      viaS3('Decrypt'),
      viaS3('Decrypt'),
      { caller: callerKey('pf-workers'), service: 'kms', operation: 'DescribeKey' },
      { caller: 'rehearsal', service: 'kms', operation: 'Decrypt', via: 's3', resource: key, aliases: [] },
    ];
    const context = { 'kms:ResourceAliases': ['alias/rehearsal-state'] };
    expect(stateKeyUses(calls, ['pf-networking', 'pf-workers'])).toEqual({
      'pf-networking': [],
      'pf-workers': [
        { action: 'kms:Decrypt', resource: key, context },
        { action: 'kms:GenerateDataKey', resource: key, context },
      ],
    });
  });
});
