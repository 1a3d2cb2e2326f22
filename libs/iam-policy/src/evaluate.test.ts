import { allows, policyDocument } from './index';

/*
 * The evaluator the deploy rehearsal judges the state key's use with, on the cases
 * that matter there. IAM matches a KMS key's use against its key ARN; an alias ARN in
 * Resource names the alias resource, not the key behind it (AWS KMS developer guide,
 * "Specifying KMS keys in IAM policy statements"; "Use aliases to control access to
 * KMS keys"), so a grant on it does not allow Decrypt or GenerateDataKey.
 */

const KEY = 'arn:aws:kms:eu-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const generate = { action: 'kms:GenerateDataKey', resource: KEY, context: { 'kms:ResourceAliases': ['alias/state', 'alias/other'] } };

describe('allows', () => {
  it('does not let a grant on the alias ARN use the key behind it', () => {
    const onAlias = policyDocument([
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: 'arn:aws:kms:eu-west-2:111111111111:alias/state' },
    ]);
    expect(allows(onAlias, generate)).toBe(false);
  });

  it('lets a grant through kms:ResourceAliases use any key of the account and region that carries the alias', () => {
    const byAlias = policyDocument([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:eu-west-2:111111111111:key/*',
        Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/state' } },
      },
    ]);
    expect(allows(byAlias, generate)).toBe(true);
    expect(allows(byAlias, { ...generate, context: { 'kms:ResourceAliases': ['alias/other'] } })).toBe(false);
    expect(allows(byAlias, { ...generate, context: {} })).toBe(false);
    expect(allows(byAlias, { ...generate, resource: KEY.replace('eu-west-2', 'eu-west-1') })).toBe(false);
    expect(allows(byAlias, { ...generate, action: 'kms:Encrypt' })).toBe(false);
  });

  it('matches actions without regard to case and with wildcards, and lets a Deny win', () => {
    const doc = policyDocument([
      { Effect: 'Allow', Action: 'KMS:generate*', Resource: KEY },
      { Effect: 'Deny', Action: 'kms:*', Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/x': 'y' } } },
    ]);
    expect(allows(doc, generate)).toBe(true);
    expect(allows(doc, { ...generate, context: { 'aws:RequestTag/x': 'y' } })).toBe(false);
  });

  it('refuses to guess an operator it does not read', () => {
    const doc = policyDocument([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { ArnLike: { 'aws:SourceArn': 'x' } } }]);
    expect(() => allows(doc, generate)).toThrow('condition operator ArnLike is not one this evaluator reads');
  });
});
