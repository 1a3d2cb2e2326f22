// The parts of a KMS key's ARN and of an alias, as KMS issues them (a key id is a UUID, or mrk- and 32 hex digits for a multi-Region key).
const KMS_ARN_PREFIX = String.raw`arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:`;
const KEY_RESOURCE = String.raw`key\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})`;
const ALIAS = String.raw`alias\/[A-Za-z0-9/_-]+`;

/**
 * A KMS key's ARN, `arn:<partition>:kms:<region>:<account>:key/<id>`: the only form
 * of the environment's own key (the parameters stack's) that its users all take.
 * CloudWatch Logs encrypts a log group with a key ARN only, Lambda's kms_key_arn is
 * one, and an IAM statement grants a key's use by its key ARN (an alias ARN in
 * Resource grants nothing on the key).
 */
export const KMS_KEY_ARN = new RegExp(`^${KMS_ARN_PREFIX}${KEY_RESOURCE}$`);

/**
 * What the s3 state backend takes as its key (state.kmsKeyId): a key ARN, an alias
 * ARN or `alias/<name>`. The backend refuses a bare key id, so none is accepted here.
 */
export const STATE_KMS_KEY = new RegExp(`^(${KMS_ARN_PREFIX}(${KEY_RESOURCE}|${ALIAS})|${ALIAS})$`);

/**
 * Days KMS waits before deleting a key it was asked to delete (KMS accepts 7 to
 * 30). The longest is the default: a key scheduled for deletion by mistake can be
 * recovered for a month, and everything it encrypted with it.
 */
export const KEY_DELETION_WINDOW_DAYS = { min: 7, max: 30, default: 30 } as const;

/** Why `days` is not a deletion window KMS accepts, or undefined when it is (or is left to the default). */
export function keyDeletionWindowProblem(days: number | undefined): string | undefined {
  if (days === undefined) return undefined;
  const { min, max } = KEY_DELETION_WINDOW_DAYS;
  return Number.isInteger(days) && days >= min && days <= max
    ? undefined
    : `keyDeletionWindowInDays: ${days} is not a whole number of days from ${min} to ${max}`;
}
