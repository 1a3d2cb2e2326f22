import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironment } from '@queue-lanes/config';
import { stackDependencies } from '@queue-lanes/stacks/testing';
import { scratchCheckout } from '../scratch-checkout';
import { workspaceProjects } from '../workspace-projects';
import { cdktfCommandProblems, type StackGraph } from './cdktf-commands';
import { commandBlocks, commandsOf, documentationPages, WHERE, type CommandBlock } from './commands';

/*
 * Every command README.md and docs/ show runs as written: the offline ones are run
 * here, in a scratch clone of the working tree; the others (AWS, a web host, the
 * minutes-long ones) are checked against the workspace: the files, Nx targets,
 * npm scripts, generators and stacks they name exist, and every aws call names
 * its region.
 */

const root = join(__dirname, '..', '..');
const pages = documentationPages(root);
const blocks = pages.flatMap(({ file, text }) => commandBlocks(file, text));
const at = (block: CommandBlock) => `${block.file}:${block.line}`;

const projects = workspaceProjects(root);
const targets = new Set([...projects.values()].flatMap((t) => [...t]));
const generatorPlugin = (JSON.parse(readFileSync(join(root, 'tools', 'generators', 'package.json'), 'utf8')) as { name: string }).name;
const generators = (JSON.parse(readFileSync(join(root, 'tools', 'generators', 'generators.json'), 'utf8')) as { generators: object })
  .generators;
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: object }).scripts;

/** Everything a command names that the workspace must have; one message per thing missing. */
function missing(command: string, cwd: string): string[] {
  const problems: string[] = [];
  const words = command.split(/\s+/);
  const nx = words.findIndex((w) => /(^|\/)nx$/.test(w));
  if (nx >= 0) {
    const verb = words[nx + 1];
    if (verb === 'run') {
      const [project, target] = (words[nx + 2] ?? '').split(':');
      if (!projects.get(project)?.has(target)) problems.push(`nx run ${project}:${target}: no such project and target`);
    }
    if (verb === 'run-many' || verb === 'affected') {
      const t = words.indexOf('-t', nx);
      for (let i = t + 1; t > 0 && i < words.length && !words[i].startsWith('-'); i++)
        if (!targets.has(words[i])) problems.push(`nx ${verb}: no project has target ${words[i]}`);
    }
    if (verb === 'g' || verb === 'generate') {
      const [plugin, generator] = (words[nx + 2] ?? '').split(':');
      if (plugin !== generatorPlugin || !(generator in generators)) problems.push(`nx g ${words[nx + 2]}: no such generator`);
    }
  }
  if (words[0] === 'npm' && words[1] === 'run') {
    if (!(words[2] in scripts)) problems.push(`npm run ${words[2]}: no such script in package.json`);
  }
  if ((words[0] === 'node' || words[0] === 'bash') && /^(\.\.\/)*(tools|libs|apps)\//.test(words[1] ?? '')) {
    for (const file of words.slice(1).filter((w) => /^(\.\.\/)*(tools|libs|apps)\/\S+\.(ts|cjs|sh|js)$/.test(w)))
      if (!existsSync(join(cwd, file))) problems.push(`${file}: no such file`);
  }
  // IAM is global; every other service the docs call is regional, and a shell's default region may be another.
  if (words[0] === 'aws' && words[1] !== 'iam' && !words.includes('--region')) problems.push(`${words.slice(0, 3).join(' ')}: no --region`);
  return problems;
}

/** The stacks of each environment and what each reads from, synthesized once per environment. */
const graphs = new Map<string, StackGraph>();

/** What cdktf would refuse in a `cdktf diff|deploy|destroy` (run from apps/<env>). */
function stackProblems(command: string, cwd: string): string[] {
  if (!/\bcdktf\s+(diff|deploy|destroy)\b/.test(command)) return [];
  const env = /apps\/([a-z0-9-]+)$/.exec(cwd)?.[1];
  if (!env) return [`${command}: not run from an app folder (cd apps/<env> first)`];
  if (!graphs.has(env))
    graphs.set(env, stackDependencies(loadEnvironment(join(root, 'environments', `${env}.yaml`), `environments/${env}.yaml`)));
  return cdktfCommandProblems(command, graphs.get(env)!);
}

/** Each command of a block with the folder it runs in (a leading `cd` moves it). */
function commandsIn(block: CommandBlock): { command: string; cwd: string }[] {
  let cwd = root;
  const out: { command: string; cwd: string }[] = [];
  for (const command of commandsOf(block.script)) {
    const cd = /^cd\s+(\S+)$/.exec(command);
    if (cd && !cd[1].includes('$')) cwd = join(cwd, cd[1]);
    else out.push({ command, cwd });
  }
  return out;
}

describe('the commands in README.md and docs/', () => {
  it('are found: the pages have shell blocks of every kind', () => {
    expect(pages.map((p) => p.file)).toEqual(expect.arrayContaining(['README.md', 'docs/configuration.md', 'docs/operations.md']));
    expect(new Set(blocks.map((b) => b.where))).toEqual(new Set(WHERE));
  });

  it.each(blocks.map((b) => [at(b), b] as const))('%s says where it runs, and parses', (_, block) => {
    expect(WHERE).toContain(block.where);
    const parse = spawnSync('bash', ['-n'], { input: block.script, encoding: 'utf8' });
    expect(parse.stderr).toBe('');
  });

  it.each(blocks.map((b) => [at(b), b] as const))('%s names only files, targets, scripts and stacks that exist', (_, block) => {
    const problems = commandsIn(block).flatMap(({ command, cwd }) => [...missing(command, cwd), ...stackProblems(command, cwd)]);
    expect(problems).toEqual([]);
  });

  it.each(blocks.filter((b) => b.where === 'here').map((b) => [at(b), b] as const))('%s, run here, has nothing to fill in', (_, block) => {
    expect(block.script).not.toMatch(/<[a-z][^>]*>|…/);
  });

  it('name Nx targets that exist in their prose too', () => {
    const inline = pages.flatMap(({ file, text }) =>
      [...text.matchAll(/`(npx nx run [^`]+)`/g)].map((m) => ({ file, command: m[1].replace(/<env>/g, 'staging') })),
    );
    expect(inline.length).toBeGreaterThan(0);
    expect(inline.flatMap(({ file, command }) => missing(command, root).map((p) => `${file}: ${p}`))).toEqual([]);
  });
});

describe('the offline commands, run as written', () => {
  const offline = blocks.filter((b) => b.where === 'here');
  let scratch: string;
  beforeAll(() => {
    // The working tree as a clone would see it (tracked and new files), with a
    // main branch, an origin and a parent commit for the commands that compare.
    // The docs generate an environment (qa) as a newcomer would, on a checkout without one.
    const generated = offline.flatMap((block) =>
      [...block.script.matchAll(/nx g @queue-lanes\/generators:environment ([a-z0-9-]+)/g)].map((m) => m[1]),
    );
    scratch = scratchCheckout(root, mkdtempSync(join(tmpdir(), 'queue-lanes-docs-')), { withoutEnvironments: generated });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: scratch, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.name=docs', '-c', 'user.email=docs@example.com', 'commit', '-q', '--allow-empty', '-m', 'base');
    git('add', '-A');
    git('-c', 'user.name=docs', '-c', 'user.email=docs@example.com', 'commit', '-q', '-m', 'tree');
    git('remote', 'add', 'origin', scratch);
    git('fetch', '-q', 'origin');
  }, 120_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('are there', () => expect(offline.length).toBeGreaterThanOrEqual(5));

  it.each(offline.map((b) => [at(b), b] as const))(
    '%s exits 0',
    (_, block) => {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', block.script], {
        cwd: scratch,
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0', NO_COLOR: '1' },
      });
      expect({ status: run.status, stderr: run.status === 0 ? '' : `${run.stdout}\n${run.stderr}`.slice(-4000) }).toEqual({
        status: 0,
        stderr: '',
      });
    },
    300_000,
  );
});
