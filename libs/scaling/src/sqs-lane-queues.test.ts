// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { TerraformStack, Testing } from 'cdktf';
import { SqsLaneQueues } from './sqs-lane-queues';
import { KEY, env, one, ref, resources, sqsLane, synth, type Json } from './testing/fixtures';

const stack = new TerraformStack(Testing.app(), 'test');
const feeds = new SqsLaneQueues(stack, 'feeds', {
  app: 'propertyfeed',
  environment: 'staging',
  laneName: 'feeds',
  sqs: { visibilityTimeout: 600, maxReceiveCount: 3, messageRetentionSeconds: 86400 },
  kmsKeyArn: KEY,
});
const text = Testing.synth(stack);
const json = JSON.parse(text) as Json;

describe('the queues', () => {
  it('are <app>-<env>-<lane>, encrypted with the environment key, with the lane visibility timeout and retention', () => {
    expect(text).toHaveResourceWithProperties(SqsQueue, {
      name: 'propertyfeed-staging-feeds',
      kms_master_key_id: KEY,
      visibility_timeout_seconds: 600,
      message_retention_seconds: 86400,
      tags: { lane: 'feeds' },
    });
  });

  it('move a message to <app>-<env>-<lane>-dlq after sqs.maxReceiveCount receives', () => {
    const queue = one(json, 'aws_sqs_queue', (q) => q.name === 'propertyfeed-staging-feeds');
    expect(JSON.parse(queue.redrive_policy as string)).toEqual({
      deadLetterTargetArn: ref(feeds.deadLetterQueue, 'arn'),
      maxReceiveCount: 3,
    });
    expect(one(json, 'aws_sqs_queue', (q) => q.name === 'propertyfeed-staging-feeds-dlq')).toEqual(
      expect.objectContaining({ kms_master_key_id: KEY, message_retention_seconds: 1209600 }),
    );
  });

  it('let only the lane queue use the dead-letter queue', () => {
    const allow = one(json, 'aws_sqs_queue_redrive_allow_policy');
    expect(allow.queue_url).toBe(ref(feeds.deadLetterQueue, 'url'));
    expect(JSON.parse(allow.redrive_allow_policy as string)).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [ref(feeds.queue, 'arn')],
    });
  });
});

describe('a scaled SQS lane, from the environment', () => {
  const s = synth(
    env(
      sqsLane('feeds', 'owned', [
        'tasks: { baseline: 1, min: 0, max: 4 }',
        'sqs: { visibilityTimeout: 600, maxReceiveCount: 3, messageRetentionSeconds: 86400 }',
      ]),
    ),
  );
  const { json } = s;

  it('is sized by the backlog controller, as a Redis lane is: no App Auto Scaling target, policy or scaling alarm', () => {
    expect(resources(json, 'aws_appautoscaling_target')).toEqual([]);
    expect(resources(json, 'aws_appautoscaling_policy')).toEqual([]);
    expect(resources(json, 'aws_cloudwatch_metric_alarm')).toEqual([]);
    expect(s.scaling.controller!.config.lanes).toEqual([
      expect.objectContaining({ name: 'feeds', broker: 'sqs', sized: true, queues: ['propertyfeed-staging-feeds'], min: 0, max: 4 }),
    ]);
  });

  it('exposes its queues by lane', () => {
    const lane = s.scaling.sqsLanes.feeds;
    expect([lane.laneName, lane.queueName]).toEqual(['feeds', 'propertyfeed-staging-feeds']);
    expect(s.scaling.queues).toEqual({ feeds: lane.queue });
    expect(s.scaling.deadLetterQueues).toEqual({ feeds: lane.deadLetterQueue });
  });
});

describe.each(['baseline', 'off'])('an SQS lane at stage %s', (stage) => {
  const fixed = synth(env(sqsLane('feeds', stage)));

  it('keeps its queues, so a rollback never deletes messages', () => {
    expect(
      resources(fixed.json, 'aws_sqs_queue')
        .map((q) => q.name)
        .filter((name) => String(name).includes('-feeds'))
        .sort(),
    ).toEqual(['propertyfeed-staging-feeds', 'propertyfeed-staging-feeds-dlq']);
  });

  it('is not sized: measured only at baseline, not read at all while off', () => {
    const lanes = fixed.scaling.controller?.config.lanes ?? [];
    expect(lanes.map((l) => [l.name, l.sized])).toEqual(stage === 'baseline' ? [['feeds', false]] : []);
  });
});
