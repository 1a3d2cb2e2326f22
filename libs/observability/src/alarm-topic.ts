import { createHash } from 'node:crypto';
import type { AlarmSubscription } from '@queue-lanes/config';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';
import { accountAdministersKey, policyDocument, type PolicyDocument } from '@queue-lanes/iam-policy';
import { KEY_DELETION_WINDOW_DAYS, alarmTopicName, keyDeletionWindowProblem } from '@queue-lanes/config';

export interface AlarmTopicProps {
  /** The application: the topic is `<app>-<env>-alarms`. */
  readonly app: string;
  /** The environment: the topic is `<app>-<env>-alarms`. */
  readonly environment: string;
  /**
   * Who the topic notifies (the environment's `alarms.subscriptions`), one subscription each.
   * @default []
   */
  readonly subscriptions?: readonly AlarmSubscription[];
  /**
   * The environment's accounts: a `lambda` subscriber in one of them gets its invoke permission here.
   * @default []
   */
  readonly accountIds?: readonly string[];
  /**
   * Days KMS waits before deleting the topic's key once it is scheduled for deletion (7-30).
   * @default 30
   */
  readonly keyDeletionWindowInDays?: number;
}

/**
 * The environment's alarm topic `<app>-<env>-alarms`, encrypted with a key of its
 * own (`alias/<app>-<env>-alarms`), and one subscription per
 * subscriber.
 *
 * A dedicated key rather than the environment key of the parameters stack: that key
 * decrypts the runtime secrets, and letting CloudWatch use it would widen who can
 * touch it; the parameters stack would also have to be deployed before any alarm
 * change. Only CloudWatch publishes here (alarm and OK actions), so only
 * cloudwatch.amazonaws.com gets the key, and only to encrypt messages.
 */
export class AlarmTopic extends Construct {
  /** `<app>-<env>-alarms`. */
  readonly topicName: string;
  /** Encrypts the topic's messages at rest; rotated yearly. */
  readonly key: KmsKey;
  /** `alias/<app>-<env>-alarms`. */
  readonly keyAlias: KmsAlias;
  /** The key policy, as set on {@link key}. */
  readonly keyPolicy: string;
  readonly topic: SnsTopic;
  /** One per subscriber, in the order given. */
  readonly subscriptions: readonly SnsTopicSubscription[];
  /**
   * Lets the topic invoke each `lambda` subscriber in one of the environment's
   * accounts (a function in another account must grant sns.amazonaws.com itself).
   */
  readonly lambdaPermissions: readonly LambdaPermission[];

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const window = props.keyDeletionWindowInDays ?? KEY_DELETION_WINDOW_DAYS.default;
    const windowProblem = keyDeletionWindowProblem(window);
    if (windowProblem) {
      throw new Error(`AlarmTopic ${alarmTopicName(props)}: ${windowProblem}`);
    }
    this.topicName = alarmTopicName(props);

    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const partition = new DataAwsPartition(this, 'partition').partition;
    this.keyPolicy = JSON.stringify(topicKeyPolicy(partition, account));
    this.key = new KmsKey(this, 'key', {
      description: `Alarm notifications of ${props.app} ${props.environment} (queue-lanes)`,
      enableKeyRotation: true,
      deletionWindowInDays: window,
      policy: this.keyPolicy,
    });
    this.keyAlias = new KmsAlias(this, 'alias', { name: `alias/${this.topicName}`, targetKeyId: this.key.keyId });
    this.topic = new SnsTopic(this, 'topic', {
      name: this.topicName,
      displayName: `${props.app} ${props.environment} queue lanes`,
      kmsMasterKeyId: this.key.arn,
    });
    ({ subscriptions: this.subscriptions, lambdaPermissions: this.lambdaPermissions } = subscribe(this, props, this.topic));
  }
}

/** The account administers the key; CloudWatch alarms may use it to publish, and nothing else may. */
function topicKeyPolicy(partition: string, account: string): PolicyDocument {
  return policyDocument([
    accountAdministersKey(partition, account),
    {
      // CloudWatch alarms publish to an encrypted topic only if they may make a data key for it.
      Sid: 'CloudWatchAlarmsPublish',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    },
  ]);
}

/** A subscription per subscriber, and for a Lambda in one of the environment's accounts, its permission to be invoked. */
function subscribe(
  scope: Construct,
  props: AlarmTopicProps,
  topic: SnsTopic,
): { subscriptions: SnsTopicSubscription[]; lambdaPermissions: LambdaPermission[] } {
  const subscriptions: SnsTopicSubscription[] = [];
  const lambdaPermissions: LambdaPermission[] = [];
  const accounts = props.accountIds ?? [];
  for (const sub of props.subscriptions ?? []) {
    const key = subscriptionKey(sub);
    subscriptions.push(
      new SnsTopicSubscription(scope, `subscription-${key}`, { topicArn: topic.arn, protocol: sub.protocol, endpoint: sub.endpoint }),
    );
    if (sub.protocol === 'lambda' && accounts.includes(sub.endpoint.split(':')[4])) {
      lambdaPermissions.push(
        new LambdaPermission(scope, `invoke-${key}`, {
          functionName: sub.endpoint,
          statementId: `${alarmTopicName(props)}-topic`,
          action: 'lambda:InvokeFunction',
          principal: 'sns.amazonaws.com',
          sourceArn: topic.arn,
        }),
      );
    }
  }
  return { subscriptions, lambdaPermissions };
}

/** A construct id that follows the endpoint, not its position, so reordering the list replaces nothing. */
function subscriptionKey(sub: AlarmSubscription): string {
  return `${sub.protocol}-${createHash('sha256').update(sub.endpoint).digest('hex').slice(0, 12)}`;
}
