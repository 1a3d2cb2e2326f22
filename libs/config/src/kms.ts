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
