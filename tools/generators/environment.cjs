// nx g @queue-lanes/generators:environment <name> --from <env>
//
// Writes environments/<name>.yaml from environments/<from>.yaml and the Nx app
// apps/<name>. Every value that belongs to the other environment is blanked
// (null, so synth refuses the file at that key until it is filled): values that
// name the environment it was copied from, and settings outside the lanes whose
// value differs between the existing environments (account, network ids, hosts,
// buckets, state). Lanes, the fleet and the guardrails are copied, every lane at
// stage off (see startLanesOff), so the new file's first pull request passes the
// rollout guard and its first deploy runs no task.
// Plain CommonJS: Nx loads it as is, with no TypeScript transpiler installed.
'use strict';
const { join } = require('node:path');
const prettier = require('prettier');
const { isScalar, isSeq, isMap, parseDocument } = require('yaml');

const NAME = /^[a-z][a-z0-9-]{0,19}$/;
/** Blocks that say how the lanes run, not where: copied, never blanked. */
const COPIED = new Set(['app', 'region', 'lanes', 'fleet', 'guardrails', 'logs', 'alarms', 'scheduler', 'controller']);

module.exports = async function environmentGenerator(tree, options) {
  const { name, from } = options;
  if (!NAME.test(name)) {
    throw new Error(`"${name}" is not an environment name: lowercase letters, digits and dashes, starting with a letter, at most 20`);
  }
  const existing = (tree.children('environments') || []).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));
  if (!existing.includes(from)) throw new Error(`--from ${from}: no environments/${from}.yaml; environments here: ${existing.join(', ')}`);
  if (existing.includes(name) || tree.exists(`apps/${name}`)) {
    throw new Error(`environment ${name} already exists (environments/${name}.yaml or apps/${name})`);
  }

  const source = tree.read(`environments/${from}.yaml`, 'utf-8');
  const others = existing.filter((e) => e !== from).map((e) => parseDocument(tree.read(`environments/${e}.yaml`, 'utf-8')).toJS());
  const doc = parseDocument(source);
  const blanked = [];
  const namesSource = new RegExp(`(^|[^a-z0-9])${from}([^a-z0-9]|$)`, 'i');
  const visit = (node, path) => {
    if (isMap(node)) for (const pair of node.items) visit(pair.value, [...path, isScalar(pair.key) ? pair.key.value : String(pair.key)]);
    else if (isSeq(node)) node.items.forEach((item, i) => visit(item, [...path, i]));
    else if (isScalar(node) && node.value !== null) {
      if (path.length === 1 && path[0] === 'environment') {
        node.value = name;
        return;
      }
      const differs = !COPIED.has(path[0]) && others.some((other) => valueAt(other, path) !== node.value);
      if (differs || (typeof node.value === 'string' && namesSource.test(node.value))) {
        blanked.push(`${formatPath(path)} (${from}: ${JSON.stringify(node.value)})`);
        node.value = null;
      }
    }
  };
  visit(doc.contents, []);
  const started = startLanesOff(doc);
  const header = [
    ` Generated from ${from}.yaml. Fill in every null below with ${name}'s own value; synth refuses the file until then:`,
    ...blanked.map((b) => `   ${b}`),
    ` Every lane starts at stage off (${from}: ${started.join(', ') || 'none past off'}): its service at 0 tasks, the hosts keep its queues.`,
    ' Move one lane one stage per change (baseline, then scaling, then owned); the rollout guard checks each.',
  ];
  const lines = doc.toString({ flowCollectionPadding: true, lineWidth: 0 }).split('\n');
  // After the editor's schema line, which stays first.
  const at = lines[0].startsWith('# yaml-language-server:') ? 1 : 0;
  lines.splice(at, 0, ...header.map((h) => `#${h}`));
  tree.write(`environments/${name}.yaml`, lines.join('\n'));

  const fromProject = JSON.parse(tree.read(`apps/${from}/project.json`, 'utf-8'));
  const project = JSON.parse(JSON.stringify(fromProject).split(`environments/${from}.yaml`).join(`environments/${name}.yaml`));
  project.name = name;
  project.sourceRoot = `apps/${name}`;
  tree.write(`apps/${name}/project.json`, `${JSON.stringify(project, null, 2)}\n`);
  const cdktf = JSON.parse(tree.read(`apps/${from}/cdktf.json`, 'utf-8'));
  cdktf.projectId = `queue-lanes-${name}`;
  tree.write(`apps/${name}/cdktf.json`, `${JSON.stringify(cdktf, null, 2)}\n`);
  tree.write(`apps/${name}/tsconfig.json`, tree.read(`apps/${from}/tsconfig.json`, 'utf-8'));
  tree.write(
    `apps/${name}/jest.config.js`,
    `module.exports = { ...require('../../jest.preset.js'), displayName: '${name}', rootDir: __dirname };\n`,
  );
  tree.write(
    `apps/${name}/main.ts`,
    [
      "import { join } from 'node:path';",
      "import { runEnvironmentApp } from '@queue-lanes/stacks';",
      '',
      `runEnvironmentApp({ environment: '${name}', workspaceRoot: join(__dirname, '..', '..') });`,
      '',
    ].join('\n'),
  );
  tree.write(
    `apps/${name}/main.test.ts`,
    [
      "import { join } from 'node:path';",
      "import { loadNamedEnvironment } from '@queue-lanes/stacks';",
      "import { describeEnvironmentInvariants } from '@queue-lanes/stacks/testing';",
      '',
      `// What every environment must hold, on whatever environments/${name}.yaml says; add what ${name} chooses below.`,
      `describeEnvironmentInvariants(loadNamedEnvironment(join(__dirname, '..', '..'), '${name}'));`,
      '',
    ].join('\n'),
  );
  // As the app's own lint target checks them (prettier --check apps/<name>).
  for (const file of ['project.json', 'cdktf.json', 'tsconfig.json', 'jest.config.js', 'main.ts', 'main.test.ts']) {
    const path = `apps/${name}/${file}`;
    const config = (await prettier.resolveConfig(join(tree.root, path))) || {};
    tree.write(path, await prettier.format(tree.read(path, 'utf-8'), { ...config, filepath: join(tree.root, path) }));
  }
};

/**
 * Sets every lane's stage to off, and drops `paused` (nothing to pause at off). A lane
 * at off runs no task; the rollout guard lets a new lane start at off or baseline, and
 * off is the one that starts nothing on settings just filled in by hand. Returns the
 * lanes that were past off in the source, as `name: stage`.
 */
function startLanesOff(doc) {
  const lanes = doc.get('lanes', true);
  if (!isMap(lanes)) return [];
  const started = [];
  for (const pair of lanes.items) {
    if (!isMap(pair.value)) continue;
    // The scalar itself, so a comment on its line stays.
    const stage = pair.value.get('stage', true);
    if (isScalar(stage) && stage.value !== 'off') {
      started.push(`${isScalar(pair.key) ? pair.key.value : pair.key}: ${stage.value}`);
      stage.value = 'off';
    }
    pair.value.delete('paused');
  }
  return started;
}

function valueAt(data, path) {
  return path.reduce((value, key) => (value !== null && typeof value === 'object' ? value[key] : undefined), data);
}

function formatPath(path) {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`)).join('');
}
