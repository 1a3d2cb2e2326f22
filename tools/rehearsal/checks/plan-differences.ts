/*
 * Check: what a second plan after apply would change, attribute by attribute, each
 * difference explained by a known reason (moto-differences.ts) or failing the rehearsal.
 */

/** An attribute that differs: its path (`container_definitions`, `tags.app`, `ingress[0].from_port`). */
export interface AttributeDifference {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/** What a plan reports for one resource or output. */
export interface Difference {
  /** drift: moto returned something else than was applied; change: the plan would act; output: an output would change. */
  readonly kind: 'drift' | 'change' | 'output';
  readonly stack: string;
  readonly address: string;
  readonly type?: string;
  readonly actions: readonly string[];
  readonly attributes: readonly AttributeDifference[];
}

interface ResourceChangeJson {
  readonly address: string;
  readonly type?: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: unknown;
    readonly after?: unknown;
    readonly after_unknown?: unknown;
  };
}

/** `tofu show -json <planfile>`, the parts the report reads. */
export interface PlanJson {
  readonly resource_drift?: readonly ResourceChangeJson[];
  readonly resource_changes?: readonly ResourceChangeJson[];
  readonly output_changes?: Readonly<Record<string, ResourceChangeJson['change']>>;
}

const UNKNOWN = '(known after apply)';

/** Every leaf attribute whose value differs between `before` and `after`. */
export function attributeDifferences(before: unknown, after: unknown, unknown: unknown = undefined, path = ''): AttributeDifference[] {
  if (unknown === true) return [{ path: path || '(value)', before, after: UNKNOWN }];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: AttributeDifference[] = [];
    const unknowns = Array.isArray(unknown) ? unknown : [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      out.push(...attributeDifferences(before[i], after[i], unknowns[i], `${path}[${i}]`));
    }
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const unknowns = isObject(unknown) ? unknown : {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknowns)])].sort();
    return keys.flatMap((key) => attributeDifferences(before[key], after[key], unknowns[key], path ? `${path}.${key}` : key));
  }
  if (isObject(unknown) || Array.isArray(unknown)) {
    // after is null/absent but parts of it are unknown: report the whole value
    if (containsTrue(unknown)) return [{ path: path || '(value)', before, after: UNKNOWN }];
  }
  const same = JSON.stringify(normalize(before)) === JSON.stringify(normalize(after));
  return same ? [] : [{ path: path || '(value)', before, after }];
}

function containsTrue(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.some(containsTrue);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsTrue);
  return false;
}

/** Absent, null, empty list and empty map are the same thing to a plan. */
function normalize(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.length === 0) return null;
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return null;
  return value;
}

/** Every drift, resource change and output change of a plan, attribute by attribute. */
export function planDifferences(stack: string, plan: PlanJson): Difference[] {
  const out: Difference[] = [];
  for (const drift of plan.resource_drift ?? []) {
    out.push({
      kind: 'drift',
      stack,
      address: drift.address,
      type: drift.type,
      actions: drift.change.actions,
      attributes: attributeDifferences(drift.change.before, drift.change.after),
    });
  }
  for (const change of plan.resource_changes ?? []) {
    const actions = change.change.actions;
    if (actions.length === 1 && (actions[0] === 'no-op' || actions[0] === 'read')) continue;
    out.push({
      kind: 'change',
      stack,
      address: change.address,
      type: change.type,
      actions,
      attributes: attributeDifferences(change.change.before, change.change.after, change.change.after_unknown),
    });
  }
  for (const [name, change] of Object.entries(plan.output_changes ?? {})) {
    if (change.actions.length === 1 && change.actions[0] === 'no-op') continue;
    out.push({
      kind: 'output',
      stack,
      address: `output.${name}`,
      actions: change.actions,
      attributes: attributeDifferences(change.before, change.after, change.after_unknown),
    });
  }
  return out;
}

/** A difference moto cannot avoid, and why. */
export interface KnownDifference {
  /** Resource type (exact), or undefined for any. */
  readonly type?: string;
  /** Attribute path pattern; every differing attribute must match for the difference to count as known. */
  readonly path: RegExp;
  readonly kind?: Difference['kind'];
  readonly why: string;
}

/**
 * The explanation for every attribute of a difference, or undefined for an
 * attribute nothing explains (the rehearsal fails on those).
 */
export function explain(difference: Difference, known: readonly KnownDifference[]): (string | undefined)[] {
  const attributes = difference.attributes.length ? difference.attributes : [{ path: '(resource)', before: null, after: null }];
  return attributes.map(
    (attribute) =>
      known.find(
        (k) =>
          (k.type === undefined || k.type === difference.type) &&
          (k.kind === undefined || k.kind === difference.kind) &&
          k.path.test(attribute.path),
      )?.why,
  );
}
