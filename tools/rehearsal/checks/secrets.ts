/*
 * Check: what write-only secrets promise. The parameters stack is first applied as the
 * previous release wrote its secrets, their real values are put out of band, and this
 * release's apply must move them to write-only; after the second plan every value is
 * still the one put, and the state holds neither those values nor the placeholder.
 */
import { stackName } from '@queue-lanes/config';
import { secretDescription, SECRET_PLACEHOLDER } from '@queue-lanes/ssm-parameters';
import { motoCommand } from '../moto';
import type { Rehearsal, RehearsedStacks, StackJson, StackRun } from '../rehearsal';
import type { ReportInput } from '../report';

/** What moto_rehearsal.py secrets answers: each secret's value in SSM, what was put, and which of those strings (or the placeholder) the state holds. */
export interface SecretsRead {
  readonly values: Readonly<Record<string, string>>;
  readonly expected: Readonly<Record<string, string>>;
  readonly inState: readonly string[];
}

/** The names of a stack's SecureString parameters. */
export function secureParameterNames(stack: StackJson): string[] {
  const resources = (stack.resource ?? {}) as Record<string, Record<string, { type?: string; name?: string }>>;
  const parameters = resources.aws_ssm_parameter ?? {};
  return Object.values(parameters)
    .filter((p) => p.type === 'SecureString' && typeof p.name === 'string')
    .map((p) => p.name as string)
    .sort();
}

/** How this release's secret descriptions end (libs/ssm-parameters secretDescription), and how the previous release's did. */
const SECRET_DESCRIPTION_END = secretDescription('', '').slice(secretDescription('', '').indexOf(';'));
const PREVIOUS_SECRET_DESCRIPTION_END = '; set out of band, Terraform keeps only the placeholder';

/**
 * The stack with its secrets as the previous release synthesized them: the
 * placeholder in `value` (which the provider reads back into state), no version,
 * and the previous description. The rehearsal applies this first, so this
 * release's apply is the upgrade every existing environment goes through.
 */
export function previousReleaseSecrets(stack: StackJson): StackJson {
  const resources = (stack.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const parameters: Record<string, Record<string, unknown>> = {};
  for (const [id, parameter] of Object.entries(resources.aws_ssm_parameter ?? {})) {
    if (parameter.type !== 'SecureString' || parameter.value_wo === undefined) {
      parameters[id] = parameter;
      continue;
    }
    const rest = Object.fromEntries(Object.entries(parameter).filter(([key]) => key !== 'value_wo' && key !== 'value_wo_version'));
    parameters[id] = {
      ...rest,
      value: parameter.value_wo,
      description: String(parameter.description).replace(SECRET_DESCRIPTION_END, PREVIOUS_SECRET_DESCRIPTION_END),
      lifecycle: { ignore_changes: ['value'] },
    };
  }
  return { ...stack, resource: { ...resources, aws_ssm_parameter: parameters } };
}

/**
 * What write-only secrets promise, checked against moto after a plan and the values
 * put out of band: every value is still the one put (Terraform reset none), and
 * the parameters stack's state holds neither those values nor the placeholder.
 */
export function secretChecks(read: SecretsRead): SecretCheck[] {
  const checks: SecretCheck[] = Object.entries(read.expected).map(([name, value]) => {
    const found = read.values[name] === value ? 'the value put out of band' : read.values[name] === undefined ? 'missing' : 'another value';
    return { what: name, expected: 'the value put out of band', found, ok: found === 'the value put out of band' };
  });
  const found = read.inState.length ? `${read.inState.length} secret value(s)` : 'none';
  checks.push({ what: 'secret values in the parameters stack state', expected: 'none', found, ok: found === 'none' });
  return checks;
}

export interface SecretCheck {
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  readonly ok: boolean;
}

/** The parameters stack and its SecureString parameters, whose upgrade to write-only the rehearsal goes through. */
export interface SecretsUpgrade {
  readonly stack?: StackRun;
  readonly names: readonly string[];
}

/** The parameters stack of the rehearsal copy, and the names of its secrets. */
export function secretsToUpgrade(s: RehearsedStacks): SecretsUpgrade {
  const stack = s.runs.find((run) => run.name === stackName(s.rehearsed, 'parameters'));
  return { stack, names: secureParameterNames(s.stacks.get(stack?.name ?? '') ?? {}) };
}

/** What moto_rehearsal.py secrets answered, or why it failed. */
export type SecretsPut = SecretsRead | string;

/** Puts each secret's real value in moto's SSM out of band (`put`), or reads them back with what the state holds. */
export function secretsCommand(r: Rehearsal, secrets: SecretsUpgrade, put: boolean): SecretsPut {
  const { target } = r;
  return motoCommand<SecretsRead>(r.root, r.awsEnv, target.endpoint, target.region, 'secrets', [
    '--bucket',
    target.bucket,
    '--state-key',
    secrets.stack?.stateKey ?? '',
    '--placeholder',
    SECRET_PLACEHOLDER,
    ...secrets.names.flatMap((n) => ['--parameter', n]),
    ...(put ? ['--put'] : []),
  ]);
}

/** After the plan, each secret read back from moto against the value put, and the state searched for it. */
export function secretsOutcome(
  r: Rehearsal,
  secrets: SecretsUpgrade,
  allApplied: boolean,
  secretsPut: SecretsPut | undefined,
): ReportInput['secrets'] {
  if (!allApplied) return { skipped: 'Not rehearsed: not every stack applied.' };
  if (secrets.names.length === 0) return { skipped: 'Not rehearsed: the environment has no parameters.secure.' };
  if (secretsPut === undefined || typeof secretsPut === 'string')
    return { failed: `Putting the secrets' values failed: ${secretsPut ?? 'not run'}` };
  const after = secretsCommand(r, secrets, false);
  return typeof after === 'string' ? { failed: `Reading the secrets back failed: ${after}` } : { checks: secretChecks(after) };
}
