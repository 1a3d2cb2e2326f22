/*
 * Rollout guard CLI: fails a change to environments/<env>.yaml that breaks the
 * rollout policy, and prints one line per changed lane for the pull request.
 *
 *   node tools/run-app.cjs tools/rollout-guard/main.ts --environment production [--base <ref>]
 *
 * The base defaults to $NX_BASE, then origin/main, then main. Run from the
 * workspace root. Exit codes: 0 within the policy, 1 a rule broken (or the
 * working-tree file invalid), 2 usage or git error. In GitHub Actions the
 * summary is also appended to the job summary ($GITHUB_STEP_SUMMARY).
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runTool } from '../cli';
import { runGuard, type GuardResult } from './guard';

const USAGE =
  'usage: node tools/run-app.cjs tools/rollout-guard/main.ts --environment <name> [--base <ref>]\n' +
  '  --base defaults to $NX_BASE, then origin/main, then main';

function main(argv: string[]): number {
  let values: { environment?: string; base?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        environment: { type: 'string', short: 'e' },
        base: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`rollout guard: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.environment) {
    process.stderr.write(`rollout guard: --environment is required\n${USAGE}\n`);
    return 2;
  }

  const result = runGuard({ root: process.cwd(), environment: values.environment, base: values.base });
  if (result.messages.length) process.stderr.write(`${result.messages.join('\n')}\n`);
  if (result.summary.length) process.stdout.write(`${result.summary.join('\n')}\n`);
  if (process.env.GITHUB_STEP_SUMMARY && result.base) {
    appendFileSync(process.env.GITHUB_STEP_SUMMARY, stepSummary(values.environment, result));
  }
  return result.exitCode;
}

/** Markdown for the GitHub Actions job summary. */
function stepSummary(environment: string, result: GuardResult): string {
  const base = result.base ? ` against \`${result.base.ref}\` (${result.base.sha.slice(0, 12)})` : '';
  const lines = [`### Rollout guard: ${environment}${base}`, '', ...result.summary.map((l) => `- ${l}`), ''];
  if (result.violations.length > 0) {
    lines.push('**Rollout rules broken:**', '', ...result.violations.map((v) => `- \`${v.rule}\`: ${v.message}`), '');
  }
  return `${lines.join('\n')}\n`;
}

runTool('rollout guard', () => main(process.argv.slice(2)));
