/*
 * What the per-environment tools (cost, runbook) share on their command line:
 * `--environment <name>` and `--help`, a usage line on any mistake, exit code 2.
 */
import { parseArgs } from 'node:util';
import { NAME_PATTERN } from '@queue-lanes/config';

/**
 * The environment a tool was asked about, and its other string options; or the
 * exit code to return (0 after --help, 2 after a mistake), the message written.
 */
export function environmentArgs(
  tool: string,
  usage: string,
  argv: readonly string[],
  extra: readonly string[] = [],
): { environment: string; options: Record<string, string | undefined> } | number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        environment: { type: 'string', short: 'e' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(extra.map((name) => [name, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${tool}: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const name = values.environment;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    process.stderr.write(
      `${tool}: ${typeof name === 'string' ? `"${name}" is not an environment name` : '--environment is required'}\n${usage}\n`,
    );
    return 2;
  }
  return { environment: name, options: Object.fromEntries(extra.map((key) => [key, values[key] as string | undefined])) };
}
