/*
 * The last phase of the rehearsal: the report (Markdown) and its verdict, from what
 * every phase and check recorded. renderReport is pure: the same input gives the same text.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Toolchain } from '../terraform/tofu';
import type { CrossStackCheck } from './checks/cross-stack';
import type { EngineSwap } from './checks/engines';
import { MOTO_DIFFERENCES } from './checks/moto-differences';
import type { PermissionCheck } from './checks/permissions';
import { explain, type Difference, type KnownDifference } from './checks/plan-differences';
import type { SecretCheck } from './checks/secrets';
import {
  REHEARSAL_STATE_KEY,
  say,
  type MotoReady,
  type MotoTarget,
  type Rehearsal,
  type RehearsalNetwork,
  type RehearsedStacks,
  type StackRun,
  type Step,
} from './rehearsal';
import type { RollbackRehearsal } from './rollback';

export interface ReportInput {
  readonly environment: string;
  /** "OpenTofu v1.12.6, hashicorp/aws 6.25.0 (…)" */
  readonly engine: string;
  readonly moto: MotoReady;
  readonly target: MotoTarget;
  readonly network: RehearsalNetwork;
  readonly runs: readonly StackRun[];
  readonly checks: readonly CrossStackCheck[];
  readonly differences: readonly Difference[];
  /** Lines of the launcher's NotImplemented log. */
  readonly unsupported: readonly string[];
  readonly seconds: number;
  /** Each stack's calls against its deploy policy. */
  readonly permissions: readonly PermissionCheck[];
  /** The rollback step; why it was skipped (nothing to roll back, or the first apply already failed); or what failed in it. */
  readonly rollback: RollbackRehearsal | { readonly skipped: string } | { readonly failed: string };
  /** Each secret's value put out of band before the second plan, then read back, and the state searched for it. */
  readonly secrets: { readonly checks: readonly SecretCheck[] } | { readonly skipped: string } | { readonly failed: string };
  /** Terraform and OpenTofu reading each other's state. */
  readonly engines: { readonly terraform: string; readonly swaps: readonly EngineSwap[] } | { readonly skipped: string };
  /** @default MOTO_DIFFERENCES */
  readonly known?: readonly KnownDifference[];
}

/**
 * The report, and whether the rehearsal passed: every stack initialized, applied,
 * planned again and destroyed; every cross-stack read resolved; and every planned
 * change explained (drift is listed, explained where known, and never fails it).
 */
export function renderReport(input: ReportInput): { markdown: string; ok: boolean } {
  const differences = differencesSection(input, input.known ?? MOTO_DIFFERENCES);
  const sections = [
    stacksSection(input),
    crossStackSection(input.checks),
    rollbackSection(input.rollback, input.runs.length),
    secretsSection(input.secrets),
    enginesSection(input.engines),
    permissionsSection(input.permissions),
    differences,
    motoSection(input.moto, input.unsupported),
  ];
  const ok = input.runs.length > 0 && sections.every((section) => section.ok);
  const { unexplained } = differences;
  const result = `Result: ${ok ? 'PASSED' : 'FAILED'}${unexplained ? ` (${unexplained} unexplained planned change(s))` : ''}.`;
  return { markdown: [...sections.flatMap((section) => section.lines), '', result, ''].join('\n'), ok };
}

/** One part of the report: its lines (from the blank line before its heading), and whether what it shows passes. */
interface Section {
  readonly lines: readonly string[];
  readonly ok: boolean;
}

/** A step's cell: – when it did not run, else its outcome and time. */
function mark(step?: Step): string {
  return step === undefined ? '–' : `${step.ok ? 'ok' : '**FAILED**'} ${step.seconds.toFixed(1)}s`;
}

/** The title, what was rehearsed against what, and each stack's steps with their errors. */
function stacksSection(input: ReportInput): Section {
  const { moto, target, network, runs } = input;
  const lines = [
    `# Deploy rehearsal: ${input.environment} against moto`,
    '',
    `- Engine: ${input.engine}.`,
    `- moto ${moto.motoVersion} on ${target.endpoint}, account ${target.accountId}, region ${target.region}.`,
    `- Rehearsal copy of environments/${input.environment}.yaml: network ${network.vpcId} (subnets ${network.privateSubnetIds.join(', ')}), ` +
      `Redis SG ${network.redisSecurityGroupId}, Aurora SG ${network.auroraSecurityGroupId}, all created in moto first; ` +
      `allowedAccountIds [${target.accountId}]; state in s3://${target.bucket} (moto), encrypted with the KMS key ${REHEARSAL_STATE_KEY} (an alias, as a state key may be given).`,
    `- Took ${input.seconds.toFixed(0)}s.`,
    '',
    '## Stacks',
    '',
    '| stack | init | apply | added | plan again | destroy | destroyed |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (run) =>
        `| ${run.name} | ${mark(run.init)} | ${mark(run.apply)} | ${run.apply?.added ?? '–'} | ${plannedAgain(run.plan)} | ${mark(run.destroy)} | ${run.destroy?.removed ?? '–'} |`,
    ),
  ];
  const errors = runs.flatMap((run) => [run.init, run.apply, run.plan, run.destroy].flatMap((step) => step?.errors ?? []));
  if (errors.length) lines.push('', '## Errors', '', ...errors.map((e) => `- ${e}`));
  return { lines, ok: runs.every((r) => r.init?.ok && r.apply?.ok && r.plan?.ok && r.destroy?.ok) };
}

/** The "plan again" cell: whether the second plan found changes. */
function plannedAgain(plan: StackRun['plan']): string {
  if (plan === undefined || !plan.ok) return mark(plan);
  return `${plan.exitCode === 0 ? 'no changes' : '**changes**'} ${plan.seconds.toFixed(1)}s`;
}

function crossStackSection(checks: readonly CrossStackCheck[]): Section {
  const lines = ['', '## Cross-stack references', ''];
  if (checks.length === 0) lines.push("No stack reads another stack's outputs (no terraform_remote_state in the synthesized stacks).");
  else {
    lines.push(
      '| stack | reads | from | resolved | value |',
      '| --- | --- | --- | --- | --- |',
      ...checks.map(
        (c) =>
          `| ${c.consumer} | ${c.data}.outputs.${c.output} | ${c.producer ?? '?'} | ${c.resolved ? 'yes' : '**NO**'} | ${cell(c.note)} |`,
      ),
    );
  }
  return { lines, ok: checks.every((c) => c.resolved) };
}

/** The lane rolled back to off: each stack's apply, then what moto holds; passes when every stack applied it and every check holds. */
function rollbackSection(rollback: ReportInput['rollback'], stacks: number): Section {
  if ('skipped' in rollback) return { lines: ['', '## Roll back a lane to off', '', rollback.skipped], ok: true };
  if ('failed' in rollback) return { lines: ['', '## Roll back a lane to off', '', `**FAILED**: ${rollback.failed}`], ok: false };
  const lines = [
    '',
    `## Roll back ${rollback.lane}: ${rollback.from} → off`,
    '',
    `The service ran ${rollback.startCount} task(s) (set through ECS first when a scaler owns the count); then the rehearsal copy with lanes.${rollback.lane}.stage set to off was applied to every stack in order, as "Rolling a lane back" in docs/operations.md does.`,
    '',
    '| stack | apply | added | changed | destroyed |',
    '| --- | --- | --- | --- | --- |',
    ...rollback.applies.map((a) => `| ${a.stack} | ${mark(a)} | ${a.added ?? '–'} | ${a.changed ?? '–'} | ${a.removed ?? '–'} |`),
    '',
    '| when | what | expected | found |',
    '| --- | --- | --- | --- |',
    ...rollback.checks.map((c) => `| ${c.when} | ${c.what} | ${c.expected} | ${c.ok ? c.found : `**${cell(c.found)}**`} |`),
  ];
  const errors = rollback.applies.flatMap((a) => a.errors);
  if (errors.length) lines.push('', ...errors.map((e) => `- ${e}`));
  const ok = rollback.applies.length === stacks && rollback.applies.every((a) => a.ok) && rollback.checks.every((c) => c.ok);
  return { lines, ok };
}

function secretsSection(secrets: ReportInput['secrets']): Section {
  const heading = ['', '## Secrets stay out of state', ''];
  if ('skipped' in secrets) return { lines: [...heading, secrets.skipped], ok: true };
  if ('failed' in secrets) return { lines: [...heading, `**FAILED**: ${secrets.failed}`], ok: false };
  const lines = [
    ...heading,
    "The parameters stack was first applied as the previous release wrote its secrets (value, read back into state); each SecureString's real value was then put out of band, and this release's apply moved them to write-only. After the plan above each was read back, and the parameters stack's state searched for it and for the placeholder.",
    '',
    '| what | expected | found |',
    '| --- | --- | --- |',
    ...secrets.checks.map((c) => `| ${c.what} | ${c.expected} | ${c.ok ? c.found : `**${cell(c.found)}**`} |`),
  ];
  return { lines, ok: secrets.checks.every((c) => c.ok) };
}

function enginesSection(engines: ReportInput['engines']): Section {
  const heading = ['', '## One state, both engines', ''];
  if ('skipped' in engines) return { lines: [...heading, engines.skipped], ok: true };
  const exit = (code: number) => (code === 0 ? 'exit 0' : `**exit ${code}**`);
  const lines = [
    ...heading,
    `Terraform ${engines.terraform} planned each state OpenTofu wrote, wrote it back with a refresh-only apply, and OpenTofu planned that; 0 is nothing to do.`,
    '',
    '| stack | Terraform plans OpenTofu’s state | Terraform writes it | OpenTofu plans Terraform’s |',
    '| --- | --- | --- | --- |',
    ...engines.swaps.map(
      (e) => `| ${e.stack} | ${exit(e.terraformPlan)} | ${e.terraformWrote ? 'ok' : '**FAILED**'} | ${exit(e.tofuPlan)} |`,
    ),
  ];
  const errors = engines.swaps.flatMap((e) => e.errors);
  if (errors.length) lines.push('', ...errors.map((e) => `- ${e}`));
  return { lines, ok: engines.swaps.every((e) => e.terraformPlan === 0 && e.terraformWrote && e.tofuPlan === 0) };
}

function permissionsSection(permissions: readonly PermissionCheck[]): Section {
  const lines = [
    '',
    '## Deploy permissions',
    '',
    "Every AWS call each stack's provider made above (apply, plan, rollback, destroy), as IAM actions, against the deploy policy synth writes for it (cdktf.out/deploy-policies). " +
      'Calls left out on purpose (libs/stacks UNGRANTED_CALLS, e.g. iam:GetUser) are not counted as missing. ' +
      "The state key's uses are the KMS calls S3 makes as each stack's state backend writes and reads its state, judged as IAM would: on the key's ARN, with its aliases as kms:ResourceAliases.",
    '',
    '| stack | actions called | state key uses | called, not granted | granted, not called here |',
    '| --- | --- | --- | --- | --- |',
    ...permissions.map(
      (p) =>
        `| ${p.stack} | ${p.called} | ${p.stateKeyUses.length ? [...new Set(p.stateKeyUses)].join(', ') : 'none'} | ${p.missing.length ? `**${p.missing.join(', ')}**` : 'none'} | ${p.unused.length ? cell(p.unused.join(', '), 4000) : 'none'} |`,
    ),
  ];
  return { lines, ok: permissions.every((p) => p.missing.length === 0) };
}

/**
 * What a second plan would change, then the drift its refresh read back, with the
 * explanations as footnotes (one number per distinct reason, across both tables).
 * Fails on a planned change nothing explains.
 */
function differencesSection(input: ReportInput, known: readonly KnownDifference[]): Section & { unexplained: number } {
  const { runs, differences } = input;
  const notes: string[] = [];
  const changes = differences.filter((d) => d.kind !== 'drift');
  // Drift where every attribute is only null against empty is representation, not a difference.
  const drift = differences.filter((d) => d.kind === 'drift' && d.attributes.length > 0);
  const representational = differences.filter((d) => d.kind === 'drift' && d.attributes.length === 0).length;
  const planned = runs.filter((r) => r.plan !== undefined);

  const lines = ['', '## What a second plan would change', ''];
  let unexplained = 0;
  if (planned.length < runs.length) lines.push('Not every stack was planned again (see the stacks table).', '');
  if (changes.length > 0) {
    const table = differenceTable(changes, known, notes, '**unexplained**');
    lines.push(...table.rows);
    unexplained = table.unexplained;
  } else if (planned.length > 0)
    lines.push(`Nothing: ${planned.length === runs.length ? 'every stack' : 'every stack planned'} plans clean after apply.`);

  lines.push(
    '',
    '## Read back differently (drift; nothing planned for it)',
    '',
    'What the refresh before the second plan found changed since apply wrote the state; a change it leads to is listed above.' +
      (representational ? ` ${representational} more resource(s) differ only as null against empty and are not listed.` : ''),
    '',
  );
  if (drift.length === 0) lines.push('Nothing.');
  else lines.push(...differenceTable(drift, known, notes, 'not explained').rows);

  if (notes.length) lines.push('', ...notes.map((why, i) => `${i + 1}. ${why}`));
  return { lines, ok: unexplained === 0, unexplained };
}

/**
 * One row per differing attribute, its reason as a footnote number from `notes`
 * (added there when new), or `missing` when nothing explains it; and how many
 * nothing explains.
 */
function differenceTable(
  list: readonly Difference[],
  known: readonly KnownDifference[],
  notes: string[],
  missing: string,
): { rows: string[]; unexplained: number } {
  let unexplained = 0;
  const rows = [
    '| stack | address | actions | attribute | state after apply | moto / plan | why |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const d of list) {
    const reasons = explain(d, known);
    const attributes = d.attributes.length ? d.attributes : [{ path: '(resource)', before: null, after: null }];
    attributes.forEach((a, i) => {
      const why = reasons[i];
      if (why === undefined) unexplained++;
      rows.push(
        `| ${d.stack} | ${d.address} | ${d.actions.join(', ')} | ${cell(a.path)} | ${cell(a.before, 80)} | ${cell(a.after, 80)} | ${why === undefined ? missing : footnote(notes, why)} |`,
      );
    });
  }
  return { rows, unexplained };
}

/** `[n]`, the footnote number of a reason, added to `notes` the first time it is given. */
function footnote(notes: string[], why: string): string {
  const index = notes.indexOf(why);
  if (index !== -1) return `[${index + 1}]`;
  notes.push(why);
  return `[${notes.length}]`;
}

/** What the launcher patched in moto, and what moto could not answer (never fails the rehearsal by itself). */
function motoSection(moto: MotoReady, unsupported: readonly string[]): Section {
  const lines = [
    '',
    '## moto',
    '',
    'Patched by tools/rehearsal/moto_patches where moto lacks an API the stacks use:',
    '',
    ...(moto.patches.length ? moto.patches.map((p) => `- ${p}`) : ['- none']),
    '',
    'APIs called that moto does not implement:',
    '',
    ...(unsupported.length ? unsupported.map((u) => `- ${u}`) : ['- none']),
  ];
  return { lines, ok: true };
}

/** Writes the report (report.md, and on stdout); the exit code its verdict gives. */
export function writeReport(
  r: Rehearsal,
  s: RehearsedStacks,
  outcome: Pick<ReportInput, 'network' | 'checks' | 'differences' | 'rollback' | 'secrets' | 'engines' | 'permissions'> & {
    started: number;
  },
): number {
  const { started, ...steps } = outcome;
  const unsupportedLog = join(r.scratch, 'moto-unsupported.log');
  const unsupported = existsSync(unsupportedLog) ? [...new Set(readFileSync(unsupportedLog, 'utf8').split('\n').filter(Boolean))] : [];
  const report = renderReport({
    environment: r.environment,
    engine: engineLine(r.toolchain),
    moto: r.moto,
    target: r.target,
    runs: s.runs,
    ...steps,
    unsupported,
    seconds: (Date.now() - started) / 1000,
  });
  writeFileSync(join(r.reportDir, 'report.md'), report.markdown);
  process.stdout.write(`\n${report.markdown}\n`);
  say(`report: ${join(r.reportDir, 'report.md')}; logs: ${r.logs}`);
  return report.ok ? 0 : 1;
}

/** "OpenTofu v1.12.6, hashicorp/aws 6.25.0 (…stand-in…)" for the report. */
function engineLine(toolchain: Toolchain): string {
  const stand =
    toolchain.aws.builtVersion && toolchain.aws.builtVersion !== toolchain.aws.version
      ? ` (the mirror's stand-in: ${toolchain.aws.module}, provider ${toolchain.aws.builtVersion})`
      : '';
  return `OpenTofu ${toolchain.tofu.version}, hashicorp/aws ${toolchain.aws.version}${stand}`;
}

/** A value for a Markdown table cell: JSON, shortened. */
export function cell(value: unknown, max = 120): string {
  const text = value === undefined ? '(absent)' : typeof value === 'string' ? value : JSON.stringify(value);
  const short = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return short.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
