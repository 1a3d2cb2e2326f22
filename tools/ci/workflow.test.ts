import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { workspaceProjects } from '../workspace-projects';

/*
 * This project's own rules for the GitHub Actions workflows: every target
 * `nx affected -t` names exists, and nothing that deploys can run on a pull request
 * or outside a job with an environment. What any workflow must get right (syntax,
 * expressions, pinned actions, credentials) is actionlint's and zizmor's
 * (tools/ci/lint-workflows.sh, in the workspace's lint target). The rules are tested
 * on bad examples too, so a green run means something.
 */

const root = join(__dirname, '..', '..');
const workflowsDir = join(root, '.github', 'workflows');
const workflowFiles = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  environment?: unknown;
  steps?: Step[];
}
interface Workflow {
  on?: unknown;
  jobs?: Record<string, Job>;
}

function load(file: string): Workflow {
  return parse(readFileSync(join(workflowsDir, file), 'utf8'), { uniqueKeys: true }) as Workflow;
}

/** Triggers as a list of event names, whichever form `on:` takes. */
function events(workflow: Workflow): string[] {
  const on = workflow.on;
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return on && typeof on === 'object' ? Object.keys(on) : [];
}

/** Every target name the workspace defines: nx.json targetDefaults and each project.json. */
function definedTargets(): Set<string> {
  const names = new Set<string>(Object.keys(JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')).targetDefaults ?? {}));
  for (const targets of workspaceProjects(root).values()) for (const name of targets) names.add(name);
  return names;
}

/** Targets of each `nx affected -t a b c` (or --targets=a,b) in a shell script. */
function affectedTargets(script: string): string[][] {
  const out: string[][] = [];
  for (const line of script.split('\n')) {
    const words = line.trim().split(/\s+/);
    const at = words.indexOf('affected');
    if (at < 1 || !/(^|\/)nx$/.test(words[at - 1])) continue;
    const targets: string[] = [];
    for (let i = at + 1; i < words.length; i++) {
      const inline = /^--targets?=(.+)$/.exec(words[i]);
      if (inline) targets.push(...inline[1].split(','));
      if (['-t', '--targets', '--target'].includes(words[i])) {
        while (i + 1 < words.length && !words[i + 1].startsWith('-')) targets.push(...words[++i].split(','));
      }
    }
    out.push(targets.filter(Boolean));
  }
  return out;
}

/** A step that deploys: a deploy target, cdktf deploy, terraform/tofu apply, or a deploy action. */
function deploys(step: Step): boolean {
  const run = step.run ?? '';
  return (
    /\bcdktf\s+deploy\b|\b(terraform|tofu)\b[^\n]*\bapply\b/.test(run) ||
    affectedTargets(run).some((targets) => targets.includes('deploy')) ||
    /\bnx\s+(run\s+\S+:deploy\b|run-many\b[^\n]*\bdeploy\b)/.test(run) ||
    /deploy|terraform-cloud|tfc-workflows/i.test(step.uses ?? '')
  );
}

/** Whether an `if:` confines a job or step to pushes to main (and nothing else). */
function onlyOnPushToMain(condition: string | undefined): boolean {
  const c = condition ?? '';
  return /github\.event_name\s*==\s*'push'/.test(c) && /github\.ref\s*==\s*'refs\/heads\/main'/.test(c) && !c.includes('||');
}

/** Everything wrong with a workflow by this project's rules, one message each; empty when it is fine. */
function lintWorkflow(workflow: Workflow, defined: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const onPullRequest = events(workflow).some((e) => e.startsWith('pull_request'));
  for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
    for (const [index, step] of (job.steps ?? []).entries()) {
      const label = `job ${name}, step ${step.name ?? index + 1}`;
      for (const target of affectedTargets(step.run ?? '').flat()) {
        if (!defined.has(target)) problems.push(`${label}: nx affected target "${target}" is not defined in nx.json or any project.json`);
      }
      if (deploys(step)) {
        if (onPullRequest && !onlyOnPushToMain(job.if) && !onlyOnPushToMain(step.if)) {
          problems.push(
            `${label}: deploys, and could run on a pull request; add if: github.event_name == 'push' && github.ref == 'refs/heads/main'`,
          );
        }
        if (job.environment === undefined) problems.push(`${label}: deploys from a job without an environment (no protection rules)`);
      }
    }
  }
  return problems;
}

describe('the workflow linter', () => {
  const defined = new Set(['lint', 'test', 'deploy']);
  const workflow = (job: Job, on: unknown = { pull_request: {}, push: { branches: ['main'] } }): Workflow => ({
    on,
    jobs: { ci: job },
  });

  it('reads the targets of nx affected in its several spellings', () => {
    expect(affectedTargets('npx nx affected -t lint test --base=x')).toEqual([['lint', 'test']]);
    expect(affectedTargets('node_modules/.bin/nx affected --targets=lint,deploy')).toEqual([['lint', 'deploy']]);
    expect(affectedTargets('echo nothing')).toEqual([]);
  });

  it('rejects an unknown target', () => {
    expect(lintWorkflow({ on: 'push', jobs: { b: { steps: [{ name: 'x', run: 'npx nx affected -t lint tset' }] } } }, defined)).toEqual([
      'job b, step x: nx affected target "tset" is not defined in nx.json or any project.json',
    ]);
  });

  it('rejects a deploy that could run on a pull request, or without an environment', () => {
    const deploy = { name: 'deploy', run: 'cd apps/production && npx cdktf deploy --auto-approve' };
    expect(lintWorkflow(workflow({ steps: [deploy] }), defined)).toEqual([
      "job ci, step deploy: deploys, and could run on a pull request; add if: github.event_name == 'push' && github.ref == 'refs/heads/main'",
      'job ci, step deploy: deploys from a job without an environment (no protection rules)',
    ]);
    const loose = {
      if: "github.event_name == 'push' || github.ref == 'refs/heads/main'",
      environment: 'production',
      steps: [deploy],
    };
    expect(lintWorkflow(workflow(loose), defined)).toHaveLength(1);
    expect(lintWorkflow(workflow({ steps: [{ run: 'npx nx affected -t deploy' }] }), defined)[0]).toMatch(/could run on a pull request/);
    expect(lintWorkflow(workflow({ steps: [{ run: 'terraform -chdir=x apply -auto-approve' }] }), defined)[0]).toMatch(
      /could run on a pull request/,
    );
  });

  it('accepts a deploy job confined to pushes to main with an environment', () => {
    const job = {
      if: "github.event_name == 'push' && github.ref == 'refs/heads/main'",
      environment: 'production',
      steps: [{ run: 'npx cdktf deploy propertyfeed-production-workers' }],
    };
    expect(lintWorkflow(workflow(job), defined)).toEqual([]);
  });
});

describe.each(workflowFiles)('.github/workflows/%s', (file) => {
  it('names only nx affected targets that exist, and deploys nothing on a pull request', () => {
    expect(lintWorkflow(load(file), definedTargets())).toEqual([]);
  });
});

describe('.github/workflows/ci.yml', () => {
  const workflow = load('ci.yml');
  const steps = Object.values(workflow.jobs ?? {}).flatMap((job) => job.steps ?? []);
  const uses = (action: string) => steps.find((s) => s.uses?.startsWith(`${action}@`));

  it('runs on pull requests and on pushes to main', () => {
    expect(events(workflow)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    expect((workflow.on as { push: { branches: string[] } }).push.branches).toEqual(['main']);
  });

  it('checks out the full history without keeping the token, and sets up Node 24 with the npm cache and Python 3.11', () => {
    expect(uses('actions/checkout')?.with).toMatchObject({ 'fetch-depth': 0, 'persist-credentials': false });
    expect(uses('actions/setup-node')?.with).toMatchObject({ 'node-version': 24, cache: 'npm' });
    // The Node CI tests is one package.json's engines allow (from 22, an LTS the AWS SDK keeps supporting).
    const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;
    expect(engines).toBe('>=22');
    expect(uses('actions/setup-node')?.with?.['node-version']).toBeGreaterThanOrEqual(Number(/^>=(\d+)$/.exec(engines)![1]));
    expect(uses('actions/setup-python')?.with).toMatchObject({ 'python-version': '3.11' });
  });

  it('bootstraps, then checks the affected projects between NX_BASE and NX_HEAD, rollout guard included', () => {
    const runs = steps.map((s) => s.run ?? '');
    const bootstrap = runs.findIndex((r) => r.includes('bash tools/bootstrap.sh --test'));
    const affected = runs.findIndex((r) => affectedTargets(r).length > 0);
    expect(bootstrap).toBeGreaterThanOrEqual(0);
    expect(affected).toBeGreaterThan(bootstrap);
    expect(affectedTargets(runs[affected])[0]).toEqual(
      expect.arrayContaining(['lint', 'typecheck', 'test', 'synth', 'checkov', 'validate', 'guard']),
    );
    expect(runs[affected]).toContain('--base="$NX_BASE" --head="$NX_HEAD"');
    expect(runs.some((r) => r.includes('NX_BASE=') && r.includes('>> "$GITHUB_ENV"'))).toBe(true);
  });

  it('builds the real engine with Go into the per-machine toolchain cache, restored between runs', () => {
    expect(uses('actions/setup-go')).toBeDefined();
    expect(String(uses('actions/cache')?.with?.path)).toBe('~/.cache/queue-lanes');
    expect(String(uses('actions/cache')?.with?.key)).toContain("hashFiles('tools/terraform/toolchain.sh'");
  });

  it('rehearses the every-option fixture against moto on pull requests only', () => {
    const fixture = steps.find((s) => (s.run ?? '').includes('rehearse.sh tools/fixtures/every-option/fixture.yaml'));
    expect(fixture?.if).toBe("github.event_name == 'pull_request'");
  });

  it('rehearses the affected environments against moto on pull requests only', () => {
    const rehearse = steps.find((s) => affectedTargets(s.run ?? '').some((targets) => targets.includes('rehearse')));
    expect(rehearse?.if).toBe("github.event_name == 'pull_request'");
    expect(rehearse?.run).toContain('--base="$NX_BASE" --head="$NX_HEAD"');
  });
});
