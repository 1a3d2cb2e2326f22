import { partitionOf, policyDocument, serviceEndpoint, writeLogStreams } from './index';

describe('iam-policy', () => {
  it('names the partition of a region', () => {
    expect(partitionOf('eu-west-2')).toBe('aws');
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
  });

  it('spells regional service endpoints per partition', () => {
    expect(serviceEndpoint('ssm', 'eu-west-2')).toBe('ssm.eu-west-2.amazonaws.com');
    expect(serviceEndpoint('sqs', 'cn-northwest-1')).toBe('sqs.cn-northwest-1.amazonaws.com.cn');
  });

  it('wraps statements in a 2012-10-17 document that serializes as literal JSON', () => {
    const doc = policyDocument([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-west-2:1:q' }]);
    expect(JSON.parse(JSON.stringify(doc))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-west-2:1:q' }],
    });
  });

  it('lets a role write the streams of one log group only', () => {
    expect(writeLogStreams('WriteLogs', 'arn:aws:logs:eu-west-2:1:log-group:/ecs/a')).toEqual({
      Sid: 'WriteLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: 'arn:aws:logs:eu-west-2:1:log-group:/ecs/a:log-stream:*',
    });
  });
});
