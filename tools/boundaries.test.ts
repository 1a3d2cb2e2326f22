import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Who may import whom, by the `layer:*` tag in each project.json, checked on Nx's
 * own project graph (every static import of every file, tests included), so a
 * relative import across projects counts as much as an alias:
 * - config: the schema, names and policy documents everything builds on; imports no project;
 * - contract: what the stacks write and the controller reads (its configuration schema, metric
 *   names, Laravel's key layout); takes config only, and no cdktf, AWS SDK or Redis client;
 * - runtime: code that runs outside synth (the controller's Lambda, the simulator, the host
 *   agent); takes config, contract and runtime, and no cdktf, which must not be bundled into the Lambda;
 * - construct: the cdktf libraries; take config, contract, runtime and construct;
 * - app: one per environment; takes construct and config;
 * - tool: the workspace's scripts and tests; takes anything but an app, and of the tools only
 *   the workspace's own scripts (SHARED_TOOLS).
 * Nothing imports an app, and nothing but a tool project imports the workspace's scripts.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'layer:config': [],
  'layer:contract': ['layer:config'],
  'layer:runtime': ['layer:config', 'layer:contract', 'layer:runtime'],
  'layer:construct': ['layer:config', 'layer:contract', 'layer:runtime', 'layer:construct'],
  'layer:app': ['layer:config', 'layer:construct'],
  'layer:tool': ['layer:config', 'layer:contract', 'layer:runtime', 'layer:construct'],
};
/**
 * The project whose scripts the tool projects share: the runner (tools/cli.ts), the real
 * engine (tools/terraform's toolchain and tofu.ts), the docs' command blocks. A tool project
 * (the rehearsal) may import it; it imports no tool project, so no tool import makes a cycle.
 */
const SHARED_TOOLS = 'workspace';
/** npm packages a layer must not import. */
const MAY_NOT_IMPORT_PACKAGES: Readonly<Record<string, RegExp>> = {
  'layer:config': /^npm:(cdktf|@cdktf\/.*|constructs)$/,
  'layer:contract': /^npm:(cdktf|@cdktf\/.*|constructs|@aws-sdk\/.*|ioredis)$/,
  'layer:runtime': /^npm:(cdktf|@cdktf\/.*|constructs)$/,
};
/**
 * The libraries that take the controller's Lambda itself: the scaling lib packages it
 * and the simulator drives it. Every other library learns what the controller reads
 * from the contract, so the controller sits above them in no import.
 */
const LAMBDA_IMPORTERS: readonly string[] = ['scaling', 'simulator'];

interface Graph {
  readonly nodes: Record<string, { readonly data: { readonly tags?: readonly string[]; readonly root: string } }>;
  readonly dependencies: Record<string, readonly { readonly target: string; readonly type: 'static' | 'dynamic' | 'implicit' }[]>;
}

let graph: Graph;
beforeAll(() => {
  const scratch = mkdtempSync(join(tmpdir(), 'queue-lanes-graph-'));
  try {
    const file = join(scratch, 'graph.json');
    execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'nx'), ['graph', `--file=${file}`], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
      stdio: 'ignore',
    });
    graph = (JSON.parse(readFileSync(file, 'utf8')) as { graph: Graph }).graph;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

describe('module boundaries', () => {
  it('every project has exactly one known layer tag', () => {
    const wrong = Object.entries(graph.nodes)
      .filter(([, node]) => (node.data.tags ?? []).filter((t) => t.startsWith('layer:') && t in MAY_IMPORT).length !== 1)
      .map(([name, node]) => `${node.data.root}/project.json (${name}): tags ${JSON.stringify(node.data.tags ?? [])}`);
    expect(wrong).toEqual([]);
  });

  it('every import crosses layers only the allowed way', () => {
    expect(violations(graph)).toEqual([]);
  });

  it("no library but those that package or drive the controller imports the Lambda's code", () => {
    const importers = Object.entries(graph.dependencies)
      .filter(
        ([source, deps]) => graph.nodes[source]?.data.tags?.includes('type:lib') && deps.some((d) => d.target === 'backlog-controller'),
      )
      .map(([source]) => source)
      .sort();
    expect(importers).toEqual(LAMBDA_IMPORTERS);
    expect(graph.nodes['contract']?.data.tags).toContain('layer:contract');
    expect(graph.dependencies['contract'].map((d) => d.target).filter((t) => !t.startsWith('npm:'))).toEqual(['config']);
  });

  it('names the projects, layers and what was allowed when an import crosses the wrong way', () => {
    const withEdges = (extra: Record<string, Graph['dependencies'][string]>): Graph => ({
      ...graph,
      dependencies: {
        ...graph.dependencies,
        ...Object.fromEntries(Object.entries(extra).map(([p, d]) => [p, [...graph.dependencies[p], ...d]])),
      },
    });
    expect(violations(withEdges({ stacks: [{ target: 'staging', type: 'static' }] }))).toEqual([
      'stacks (layer:construct) imports staging (layer:app); layer:construct may import layer:config, layer:contract, layer:runtime, layer:construct',
    ]);
    expect(violations(withEdges({ config: [{ target: 'iam-policy', type: 'static' }] }))).toEqual([
      'config (layer:config) imports iam-policy (layer:config); layer:config may import no project',
    ]);
    expect(violations(withEdges({ contract: [{ target: 'npm:ioredis', type: 'static' }] }))).toEqual([
      'contract (layer:contract) imports ioredis',
    ]);
    expect(violations(withEdges({ contract: [{ target: 'backlog-controller', type: 'static' }] }))).toEqual([
      'contract (layer:contract) imports backlog-controller (layer:runtime); layer:contract may import layer:config',
    ]);
    expect(violations(withEdges({ 'backlog-controller': [{ target: 'npm:@cdktf/provider-aws', type: 'static' }] }))).toEqual([
      'backlog-controller (layer:runtime) imports @cdktf/provider-aws',
    ]);
    expect(violations(withEdges({ workspace: [{ target: 'staging', type: 'implicit' }] }))).toEqual([]);
    // A tool project takes the workspace's shared scripts (the rehearsal takes the engine); never the other way round.
    expect(violations(withEdges({ 'worker-harness': [{ target: 'workspace', type: 'static' }] }))).toEqual([]);
    expect(violations(withEdges({ workspace: [{ target: 'rehearsal', type: 'static' }] }))).toEqual([
      'workspace (layer:tool) imports rehearsal (layer:tool); layer:tool may import layer:config, layer:contract, layer:runtime, layer:construct',
    ]);
    expect(violations(withEdges({ 'worker-harness': [{ target: 'rehearsal', type: 'static' }] }))).toEqual([
      'worker-harness (layer:tool) imports rehearsal (layer:tool); layer:tool may import layer:config, layer:contract, layer:runtime, layer:construct',
    ]);
  });
});

function violations(projectGraph: Graph): string[] {
  const layer = (project: string) => projectGraph.nodes[project]?.data.tags?.find((t) => t.startsWith('layer:'));
  const found: string[] = [];
  for (const [source, deps] of Object.entries(projectGraph.dependencies)) {
    const from = layer(source);
    if (!from) continue;
    for (const dep of deps) {
      // Implicit dependencies are declared on purpose (the workspace tests synthesize the apps).
      if (dep.type === 'implicit') continue;
      if (dep.target.startsWith('npm:')) {
        if (MAY_NOT_IMPORT_PACKAGES[from]?.test(dep.target)) found.push(`${source} (${from}) imports ${dep.target.slice(4)}`);
        continue;
      }
      const to = layer(dep.target);
      if (from === 'layer:tool' && dep.target === SHARED_TOOLS) continue;
      if (!to || !MAY_IMPORT[from]?.includes(to)) {
        found.push(`${source} (${from}) imports ${dep.target} (${to}); ${from} may import ${MAY_IMPORT[from]?.join(', ') || 'no project'}`);
      }
    }
  }
  return found;
}
