import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/*
 * What cdktf 0.21 would refuse in a `cdktf diff|deploy|destroy` command, checked the
 * way the CLI checks it (@cdktf/cli-core lib/cdktf-project.js, and the CLI's own flags):
 * - a flag the verb's `--help` does not list;
 * - diff: exactly one stack, named exactly (it takes no pattern);
 * - deploy and destroy: stack patterns (cdktf matches them with minimatch; a stack
 *   name has no `/`, so `*` and `?` are all a pattern needs here) that each match a stack; deploy must name every stack the named ones read from ("The
 *   following dependencies are not included in the stacks to run"), destroy every
 *   stack that reads from them ("… dependant stacks …");
 * - --ignore-missing-stack-dependencies: cdktf then drops every dependency, ordering
 *   included, so a stack can run before the one it reads: never in a documented route.
 * For the docs test and the runbook's test.
 */

/** Each stack of an environment and the stacks it reads from (cdktf's manifest.json `dependencies`). */
export type StackGraph = Readonly<Record<string, readonly string[]>>;

const VERBS = ['diff', 'deploy', 'destroy'] as const;
type Verb = (typeof VERBS)[number];

const helpFlags = new Map<Verb, Set<string>>();

/** The long and short flags `cdktf <verb> --help` lists: the CLI's own parser's options. */
export function cdktfFlags(verb: Verb): Set<string> {
  let flags = helpFlags.get(verb);
  if (!flags) {
    const help = spawnSync(join(__dirname, '..', '..', 'node_modules', '.bin', 'cdktf'), [verb, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1' },
    });
    flags = new Set([...help.stdout.matchAll(/^\s+(?:(-[a-z]), )?(--[a-z][a-z-]*)/gm)].flatMap((m) => (m[1] ? [m[1], m[2]] : [m[2]])));
    if (!flags.has('--help')) throw new Error(`cdktf ${verb} --help listed no options:\n${help.stdout}${help.stderr}`);
    helpFlags.set(verb, flags);
  }
  return flags;
}

/** The words of a command, one level of single or double quotes removed (as the shell passes them). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** What cdktf would refuse in `command` (run in an app folder whose stacks are `graph`); empty when it would run. */
export function cdktfCommandProblems(command: string, graph: StackGraph): string[] {
  const argv = words(command);
  const at = argv.findIndex((w, i) => argv[i - 1] === 'cdktf' && (VERBS as readonly string[]).includes(w));
  if (at < 0) return [];
  const verb = argv[at] as Verb;
  const args = argv.slice(at + 1);
  const flags = cdktfFlags(verb);
  const problems: string[] = [];
  for (const flag of args.filter((a) => a.startsWith('-'))) {
    const name = flag.split('=')[0];
    if (!flags.has(name)) problems.push(`cdktf ${verb}: ${name} is not an option of cdktf ${verb} (cdktf ${verb} --help)`);
  }
  if (args.includes('--ignore-missing-stack-dependencies')) {
    problems.push(
      `cdktf ${verb}: --ignore-missing-stack-dependencies drops every dependency, the order between the named stacks included; name the stacks they read from instead`,
    );
  }
  const patterns = args.filter((a) => !a.startsWith('-'));
  const stacks = Object.keys(graph);
  if (patterns.length === 0)
    return [...problems, `cdktf ${verb}: names no stack, and the app has ${stacks.length} ("Found more than one stack")`];
  if (verb === 'diff') {
    if (patterns.length > 1) problems.push(`cdktf diff: takes one stack, not ${patterns.length}`);
    if (!stacks.includes(patterns[0])) problems.push(`cdktf diff: ${patterns[0]} is not a stack of the app ("Could not find stack")`);
    return problems;
  }
  const chosen = new Set<string>();
  for (const pattern of patterns) {
    if (/[[\]{}!+@()]/.test(pattern)) {
      problems.push(`cdktf ${verb}: ${pattern}: write stack patterns with * and ? only`);
      continue;
    }
    const glob = new RegExp(
      `^${pattern
        .replace(/[.^$|\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    const matched = stacks.filter((s) => glob.test(s));
    if (matched.length === 0) problems.push(`cdktf ${verb}: ${pattern} matches no stack of the app ("Could not find stack for pattern")`);
    matched.forEach((s) => chosen.add(s));
  }
  if (args.includes('--ignore-missing-stack-dependencies')) return problems;
  const missing =
    verb === 'deploy'
      ? [...new Set([...chosen].flatMap((s) => graph[s]))].filter((s) => !chosen.has(s))
      : stacks.filter((s) => !chosen.has(s) && graph[s].some((d) => chosen.has(d)));
  if (missing.length > 0) {
    const what = verb === 'deploy' ? 'dependencies' : 'dependant stacks';
    problems.push(`cdktf ${verb}: the following ${what} are not included in the stacks to run: ${missing.sort().join(', ')}`);
  }
  return problems;
}
