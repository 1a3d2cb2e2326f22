import type { PolicyDocument, PolicyStatement } from './index';

/*
 * Whether an identity policy allows one request, by IAM's evaluation logic for a
 * single policy: an explicit Deny wins, else one Allow whose Action, Resource and every
 * Condition match. Enough for the deploy rehearsal to judge a call by its resource and
 * context (the state key's use, through its aliases), not by its action alone. It reads
 * the operators the policies here use; any other throws rather than guess.
 */

/** One call as IAM authorises it. */
export interface AccessRequest {
  /** `<service>:<Action>`, e.g. kms:GenerateDataKey. */
  readonly action: string;
  /** The ARN IAM matches Resource against (a KMS key's key ARN, never its alias). */
  readonly resource: string;
  /** Condition keys of the request, e.g. { 'kms:ResourceAliases': ['alias/state'] }. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** Whether `doc` allows `request`. */
export function allows(doc: PolicyDocument, request: AccessRequest): boolean {
  const matching = doc.Statement.filter((statement) => applies(statement, request));
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
}

function applies(statement: PolicyStatement, request: AccessRequest): boolean {
  return (
    [statement.Action].flat().some((action) => glob(action, request.action, true)) &&
    [statement.Resource ?? []].flat().some((resource) => glob(resource, request.resource, false)) &&
    Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, wanted]) => conditionHolds(operator, request.context?.[key], [wanted].flat())),
    )
  );
}

/** IAM's wildcards: `*` any run of characters, `?` one; actions are matched without regard to case. */
function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** One condition operator over one key; a key the request does not carry matches no positive operator. */
function conditionHolds(operator: string, present: string | readonly string[] | undefined, wanted: readonly string[]): boolean {
  const [qualifier, test] = operator.includes(':') ? operator.split(':') : [undefined, operator];
  const compare: Record<string, (value: string, pattern: string) => boolean> = {
    StringEquals: (value, pattern) => value === pattern,
    StringLike: (value, pattern) => glob(pattern, value, false),
  };
  const match = compare[test];
  if (match === undefined) throw new Error(`condition operator ${operator} is not one this evaluator reads`);
  const values = present === undefined ? [] : [present].flat();
  const one = (value: string) => wanted.some((pattern) => match(value, pattern));
  switch (qualifier) {
    case undefined:
      return values.length === 1 && one(values[0]);
    case 'ForAnyValue':
      return values.some(one);
    case 'ForAllValues':
      return values.every(one);
    default:
      throw new Error(`condition operator ${operator} is not one this evaluator reads`);
  }
}
