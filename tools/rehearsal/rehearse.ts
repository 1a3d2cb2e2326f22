/*
 * The deploy rehearsal itself; tools/rehearsal/rehearse.sh starts moto first and
 * stops it after, whatever happens here.
 *
 *   node tools/run-app.cjs tools/rehearsal/rehearse.ts --environment staging \
 *     --moto <moto.json> --scratch <dir> --report-dir .cache/rehearsal/staging
 *
 * One file per phase, in this order:
 * 1. seed.ts: creates in moto the VPC, subnets and security groups the environment
 *    file points at, and the state bucket;
 * 2. synth-copy.ts: synthesizes a rehearsal copy of environments/<env>.yaml (moto's
 *    ids and account, state in moto's S3) into the scratch folder, each stack in a
 *    folder of its own with rehearsal_override.tf.json (override.ts);
 * 3. apply.ts: per stack, in dependency order, `tofu init`, `tofu apply`; then checks
 *    that every terraform_remote_state read resolves to the producing stack's output
 *    (checks/cross-stack.ts);
 * 4. replan.ts: `tofu plan -detailed-exitcode` on every stack and lists every attribute
 *    that would change, each with its explanation (checks/plan-differences.ts,
 *    checks/moto-differences.ts); then the secrets (checks/secrets.ts) and both
 *    engines on each state (checks/engines.ts);
 * 5. rollback.ts: rolls the furthest lane back to off (docs/operations.md, "Rolling a
 *    lane back"): the copy with that lane's stage set to off, applied to every stack
 *    in order, then checks in moto that its service is kept at 0 tasks, its alarms
 *    are quiet, its log group stays and the hosts' switch says enabled (checks/rollback.ts);
 * 6. destroy.ts: `tofu destroy` in reverse order, then checks that the log groups survived it;
 * 7. report.ts: the deploy permissions judged from moto's call log (checks/permissions.ts),
 *    and the report with its verdict.
 * Exit codes: 0 applied, resolved, no unexplained difference, destroyed; 1 otherwise;
 * 2 usage error.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NAME_PATTERN } from '@queue-lanes/config';
import { runTool } from '../cli';
import { TOOLCHAIN_ERROR } from '../terraform/tofu';
import { applyStacks } from './apply';
import { crossEngines } from './checks/engines';
import { permissionChecks } from './checks/permissions';
import { secretsOutcome, secretsToUpgrade } from './checks/secrets';
import { destroyStacks } from './destroy';
import { prepareRehearsal, type RehearsalArgs } from './rehearsal';
import { planAgain } from './replan';
import { writeReport } from './report';
import { rollBack } from './rollback';
import { seedNetwork } from './seed';
import { synthesizeCopy } from './synth-copy';

const USAGE =
  'usage: node tools/run-app.cjs tools/rehearsal/rehearse.ts --environment <name> --moto <moto.json> --scratch <dir> --report-dir <dir>\n' +
  '  (run tools/rehearsal/rehearse.sh, which starts and stops moto)';

function main(argv: string[], root: string): number {
  const args = rehearsalArgs(argv);
  if (typeof args === 'number') return args;
  const started = Date.now();
  const r = prepareRehearsal(root, args);
  const network = seedNetwork(r);
  if (!network) return 1;
  const s = synthesizeCopy(r, network);
  const secrets = secretsToUpgrade(s);
  const { applied, checks, secretsPut } = applyStacks(r, s, secrets);
  const allApplied = applied.length === s.runs.length && applied.every((stack) => stack.apply?.ok);
  const differences = allApplied ? planAgain(r, s) : [];
  const secretsKept = secretsOutcome(r, secrets, allApplied, secretsPut);
  const engines = crossEngines(r, s, allApplied);
  const rolledBack = rollBack(r, s, allApplied);
  destroyStacks(r, applied);
  const rollback = rolledBack.afterDestroy();
  const permissions = permissionChecks(r, s);
  return writeReport(r, s, { network, checks, differences, rollback, secrets: secretsKept, engines, permissions, started });
}

/** The command line's options, or the exit code after a usage error (its message written). */
function rehearsalArgs(argv: string[]): RehearsalArgs | number {
  let values: { environment?: string; moto?: string; scratch?: string; 'report-dir'?: string; file?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        environment: { type: 'string' },
        moto: { type: 'string' },
        scratch: { type: 'string' },
        'report-dir': { type: 'string' },
        // A file outside environments/ (tools/fixtures/every-option): rehearsed the same way.
        file: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`rehearse: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { environment, moto: motoFile, scratch } = values;
  const reportDir = values['report-dir'];
  if (!environment || !motoFile || !scratch || !reportDir || !NAME_PATTERN.test(environment)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  return { environment, motoFile, scratch, reportDir, file: values.file };
}

runTool('rehearse', () => main(process.argv.slice(2), join(__dirname, '..', '..')), TOOLCHAIN_ERROR);
