// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { AppautoscalingTarget } from '@cdktf/provider-aws/lib/appautoscaling-target';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { KEY, env, one, ref, resources, sqsLane, synth, type Resource } from './testing/fixtures';

const FEEDS = sqsLane('feeds', 'owned', [
  'tasks: { baseline: 1, min: 0, max: 4 }',
  'job: { timeout: 90 }',
  'backlogPerTask: 25',
  'drainMinutes: 20',
  'sqs: { visibilityTimeout: 600, maxReceiveCount: 3, messageRetentionSeconds: 86400 }',
]);
const s = synth(env(FEEDS));
const { json, text } = s;
const feeds = s.scaling.sqsLanes.feeds;
const policy = (name: string) => one(json, 'aws_appautoscaling_policy', (p) => p.name === name);
const alarm = (name: string) => one(json, 'aws_cloudwatch_metric_alarm', (a) => a.alarm_name === name);
const resourceId = `service/${ref(s.workers.cluster, 'name')}/${ref(s.workers.lanes.feeds.service, 'name')}`;
const target = {
  service_namespace: ref(feeds.scalableTarget!, 'service_namespace'),
  scalable_dimension: ref(feeds.scalableTarget!, 'scalable_dimension'),
  resource_id: ref(feeds.scalableTarget!, 'resource_id'),
};
const queueDimensions = { QueueName: 'propertyfeed-staging-feeds' };
const serviceDimensions = { ClusterName: 'propertyfeed-staging', ServiceName: 'propertyfeed-feeds' };

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

describe('App Auto Scaling', () => {
  it('scales the lane service task count between tasks.min and tasks.max', () => {
    expect(text).toHaveResourceWithProperties(AppautoscalingTarget, {
      service_namespace: 'ecs',
      scalable_dimension: 'ecs:service:DesiredCount',
      resource_id: resourceId,
      min_capacity: 0,
      max_capacity: 4,
    });
  });

  it('tracks backlog per task, (visible + in flight) ÷ running tasks, at backlogPerTask', () => {
    const tracking = policy('propertyfeed-staging-feeds-backlog-per-task');
    expect(tracking).toEqual(expect.objectContaining({ policy_type: 'TargetTrackingScaling', ...target }));
    const config = tracking.target_tracking_scaling_policy_configuration as Resource;
    expect(config).toEqual(
      expect.objectContaining({ target_value: 25, disable_scale_in: false, scale_out_cooldown: 60, scale_in_cooldown: 300 }),
    );
    const metrics = (config.customized_metric_specification as { metrics: Resource[] }).metrics;
    expect(metrics).toEqual([
      {
        id: 'visible',
        return_data: false,
        metric_stat: {
          metric: {
            namespace: 'AWS/SQS',
            metric_name: 'ApproximateNumberOfMessagesVisible',
            dimensions: [{ name: 'QueueName', value: 'propertyfeed-staging-feeds' }],
          },
          stat: 'Maximum',
        },
      },
      {
        id: 'inflight',
        return_data: false,
        metric_stat: {
          metric: {
            namespace: 'AWS/SQS',
            metric_name: 'ApproximateNumberOfMessagesNotVisible',
            dimensions: [{ name: 'QueueName', value: 'propertyfeed-staging-feeds' }],
          },
          stat: 'Maximum',
        },
      },
      {
        id: 'running',
        return_data: false,
        metric_stat: {
          metric: {
            namespace: 'ECS/ContainerInsights',
            metric_name: 'RunningTaskCount',
            dimensions: [
              { name: 'ClusterName', value: 'propertyfeed-staging' },
              { name: 'ServiceName', value: 'propertyfeed-feeds' },
            ],
          },
          stat: 'Average',
        },
      },
      {
        id: 'backlog_per_task',
        label: 'Backlog per task',
        // An empty queue reads as a tiny positive backlog: target tracking never computes zero tasks.
        expression: 'IF(visible + inflight > 0, (visible + inflight) / running, 0.001)',
        return_data: true,
      },
    ]);
  });

  it('adds tasks on the age of the oldest message: +1 past 300 s, +2 past 600 s', () => {
    const step = policy('propertyfeed-staging-feeds-oldest-message');
    expect(step).toEqual(expect.objectContaining({ policy_type: 'StepScaling', ...target }));
    expect(step.step_scaling_policy_configuration).toEqual({
      adjustment_type: 'ChangeInCapacity',
      metric_aggregation_type: 'Maximum',
      cooldown: 300,
      step_adjustment: [
        { metric_interval_lower_bound: '0', metric_interval_upper_bound: '300', scaling_adjustment: 1 },
        { metric_interval_lower_bound: '300', scaling_adjustment: 2 },
      ],
    });
    expect(alarm('propertyfeed-staging-feeds-oldest-message')).toEqual(
      expect.objectContaining({
        namespace: 'AWS/SQS',
        metric_name: 'ApproximateAgeOfOldestMessage',
        dimensions: queueDimensions,
        statistic: 'Maximum',
        period: 60,
        evaluation_periods: 1,
        threshold: 300,
        comparison_operator: 'GreaterThanOrEqualToThreshold',
        alarm_actions: [ref(feeds.oldestMessagePolicy!, 'arn')],
      }),
    );
  });

  it('takes the oldest-message steps from the lane', () => {
    const custom = synth(
      env(
        sqsLane('feeds', 'owned', [
          'sqs: { oldestMessageSteps: [{ ageSeconds: 120, addTasks: 1 }, { ageSeconds: 240, addTasks: 2 }, { ageSeconds: 900, addTasks: 4 }] }',
        ]),
      ),
    );
    const step = one(custom.json, 'aws_appautoscaling_policy', (p) => p.name === 'propertyfeed-staging-feeds-oldest-message');
    expect((step.step_scaling_policy_configuration as Resource).step_adjustment).toEqual([
      { metric_interval_lower_bound: '0', metric_interval_upper_bound: '120', scaling_adjustment: 1 },
      { metric_interval_lower_bound: '120', metric_interval_upper_bound: '780', scaling_adjustment: 2 },
      { metric_interval_lower_bound: '780', scaling_adjustment: 4 },
    ]);
    expect(
      one(custom.json, 'aws_cloudwatch_metric_alarm', (a) => a.alarm_name === 'propertyfeed-staging-feeds-oldest-message').threshold,
    ).toBe(120);
  });

  it('lifts the lane from 0 to 1 task on a single visible message, which target tracking cannot do', () => {
    const wake = policy('propertyfeed-staging-feeds-wake');
    expect(wake).toEqual(expect.objectContaining({ policy_type: 'StepScaling', ...target }));
    expect(wake.step_scaling_policy_configuration).toEqual({
      adjustment_type: 'ChangeInCapacity',
      metric_aggregation_type: 'Maximum',
      cooldown: 120,
      step_adjustment: [{ metric_interval_lower_bound: '0', scaling_adjustment: 1 }],
    });
    expect(alarm('propertyfeed-staging-feeds-wake')).toEqual(
      expect.objectContaining({
        metric_query: [
          {
            id: 'visible',
            metric: {
              namespace: 'AWS/SQS',
              metric_name: 'ApproximateNumberOfMessagesVisible',
              dimensions: queueDimensions,
              period: 60,
              stat: 'Maximum',
            },
          },
          {
            id: 'desired',
            metric: {
              namespace: 'ECS/ContainerInsights',
              metric_name: 'DesiredTaskCount',
              dimensions: serviceDimensions,
              period: 60,
              stat: 'Maximum',
            },
          },
          {
            id: 'waiting',
            expression: 'IF(FILL(desired, 0) < 1, visible, 0)',
            label: 'Messages waiting for a first task',
            return_data: true,
          },
        ],
        evaluation_periods: 1,
        threshold: 1,
        comparison_operator: 'GreaterThanOrEqualToThreshold',
        treat_missing_data: 'notBreaching',
        alarm_actions: [ref(feeds.wakePolicy!, 'arn')],
      }),
    );
  });

  it('scales to zero only when nothing is visible or in flight for the drain window', () => {
    const drain = policy('propertyfeed-staging-feeds-drain');
    expect(drain).toEqual(expect.objectContaining({ policy_type: 'StepScaling', ...target }));
    expect(drain.step_scaling_policy_configuration).toEqual({
      adjustment_type: 'ExactCapacity',
      metric_aggregation_type: 'Maximum',
      cooldown: 60,
      step_adjustment: [{ metric_interval_upper_bound: '0', scaling_adjustment: 0 }],
    });
    expect(alarm('propertyfeed-staging-feeds-drained')).toEqual(
      expect.objectContaining({
        metric_query: [
          {
            id: 'visible',
            metric: {
              namespace: 'AWS/SQS',
              metric_name: 'ApproximateNumberOfMessagesVisible',
              dimensions: queueDimensions,
              period: 60,
              stat: 'Maximum',
            },
          },
          {
            id: 'inflight',
            metric: {
              namespace: 'AWS/SQS',
              metric_name: 'ApproximateNumberOfMessagesNotVisible',
              dimensions: queueDimensions,
              period: 60,
              stat: 'Maximum',
            },
          },
          { id: 'queued', expression: 'visible + inflight', label: 'Visible and in-flight messages', return_data: true },
        ],
        evaluation_periods: 20,
        datapoints_to_alarm: 20,
        threshold: 1,
        comparison_operator: 'LessThanThreshold',
        treat_missing_data: 'missing',
        alarm_actions: [ref(feeds.drainPolicy!, 'arn')],
      }),
    );
  });

  it('never goes below tasks.min when it is above 0: no wake step and no drain rule', () => {
    const floor = synth(env(sqsLane('feeds', 'owned', ['tasks: { baseline: 1, min: 1, max: 3 }'])));
    expect(one(floor.json, 'aws_appautoscaling_target')).toEqual(expect.objectContaining({ min_capacity: 1, max_capacity: 3 }));
    expect(resources(floor.json, 'aws_appautoscaling_policy').map((p) => p.name)).toEqual([
      'propertyfeed-staging-feeds-backlog-per-task',
      'propertyfeed-staging-feeds-oldest-message',
    ]);
    expect(resources(floor.json, 'aws_cloudwatch_metric_alarm').map((a) => a.alarm_name)).toEqual([
      'propertyfeed-staging-feeds-oldest-message',
    ]);
  });

  it('exposes the queues and scaling by lane', () => {
    expect(feeds.queueName).toBe('propertyfeed-staging-feeds');
    expect(s.scaling.queues).toEqual({ feeds: feeds.queue });
    expect(s.scaling.deadLetterQueues).toEqual({ feeds: feeds.deadLetterQueue });
    expect(s.scaling.scalableTargets).toEqual({ feeds: feeds.scalableTarget });
  });
});

describe.each(['baseline', 'off'])('an SQS lane at stage %s', (stage) => {
  const fixed = synth(env(sqsLane('feeds', stage)));

  it('keeps its queues, so a rollback never deletes messages', () => {
    expect(
      resources(fixed.json, 'aws_sqs_queue')
        .map((q) => q.name)
        .sort(),
    ).toEqual(['propertyfeed-staging-feeds', 'propertyfeed-staging-feeds-dlq']);
  });

  it('is not scaled: no target, policy or alarm', () => {
    expect(resources(fixed.json, 'aws_appautoscaling_target')).toEqual([]);
    expect(resources(fixed.json, 'aws_appautoscaling_policy')).toEqual([]);
    expect(resources(fixed.json, 'aws_cloudwatch_metric_alarm')).toEqual([]);
    expect(fixed.scaling.scalableTargets).toEqual({});
  });
});
