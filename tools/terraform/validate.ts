/*
 * Validates every synthesized stack of a cdktf output folder with the real engine
 * and the real AWS provider, offline: `tofu init -backend=false` and
 * `tofu validate` on a scratch copy of each stack (the synth output stays as it
 * was: no .terraform folder or lock file lands in cdktf.out).
 *
 *   node tools/run-app.cjs tools/terraform/validate.ts apps/<env>/cdktf.out
 *
 * Each problem is printed as `<stack>: error <resource address> (cdk.tf.json:<line>, <attribute>): …`.
 * Exit codes: 0 every stack is valid (warnings are printed), 1 a stack is invalid
 * or tofu failed, 2 usage error.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runTool } from '../cli';
import { TOOLCHAIN_ERROR, formatDiagnostic, isStackDir, prepareToolchain, tofu, type Diagnostic } from './tofu';

interface ValidateOutput {
  readonly valid: boolean;
  readonly error_count: number;
  readonly warning_count: number;
  readonly diagnostics: readonly Diagnostic[];
}

function main(argv: string[], root: string): number {
  const out = argv[0];
  if (!out || argv.length > 1) {
    process.stderr.write('usage: node tools/run-app.cjs tools/terraform/validate.ts apps/<env>/cdktf.out\n');
    return 2;
  }
  const stacksDir = join(resolve(root, out), 'stacks');
  let stacks: string[];
  try {
    stacks = readdirSync(stacksDir)
      .filter((name) => isStackDir(join(stacksDir, name)))
      .sort();
  } catch {
    process.stderr.write(`validate: ${out}/stacks not found; synthesize first\n`);
    return 2;
  }
  if (stacks.length === 0) {
    process.stderr.write(`validate: no stacks under ${out}/stacks\n`);
    return 1;
  }

  const { toolchain, env } = prepareToolchain(root);
  const stand =
    toolchain.aws.builtVersion === toolchain.aws.version
      ? ''
      : ` (built from ${toolchain.aws.module}, provider ${toolchain.aws.builtVersion})`;
  process.stdout.write(`validate: OpenTofu ${toolchain.tofu.version}, hashicorp/aws ${toolchain.aws.version}${stand}\n`);

  const scratch = mkdtempSync(join(tmpdir(), 'queue-lanes-validate-'));
  let failed = 0;
  try {
    for (const stack of stacks) {
      const dir = join(scratch, stack);
      cpSync(join(stacksDir, stack), dir, { recursive: true, filter: (src) => basename(src) !== '.terraform' });
      const started = Date.now();
      const init = tofu(toolchain, env, dir, ['init', '-backend=false', '-input=false', '-no-color']);
      if (init.status !== 0) {
        failed++;
        process.stdout.write(`${stack}: tofu init failed\n${init.stdout}${init.stderr}\n`);
        continue;
      }
      const run = tofu(toolchain, env, dir, ['validate', '-json', '-no-color']);
      let result: ValidateOutput;
      try {
        result = JSON.parse(run.stdout) as ValidateOutput;
      } catch {
        failed++;
        process.stdout.write(`${stack}: tofu validate failed\n${run.stdout}${run.stderr}\n`);
        continue;
      }
      const files = { 'cdk.tf.json': readFileSync(join(dir, 'cdk.tf.json'), 'utf8') };
      for (const diagnostic of result.diagnostics) process.stdout.write(`${formatDiagnostic(stack, diagnostic, files)}\n`);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (result.valid) {
        process.stdout.write(`${stack}: valid (${result.warning_count} warning(s), ${seconds}s)\n`);
      } else {
        failed++;
        process.stdout.write(`${stack}: INVALID, ${result.error_count} error(s)\n`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`validate: ${stacks.length - failed} of ${stacks.length} stack(s) valid\n`);
  return failed === 0 ? 0 : 1;
}

runTool('validate', () => main(process.argv.slice(2), join(__dirname, '..', '..')), TOOLCHAIN_ERROR);
