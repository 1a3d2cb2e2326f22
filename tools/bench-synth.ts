// Synth speed benchmark: each environment's app against an empty cdktf app,
// both run the way the synth target runs them (node tools/run-app.cjs, bundle cache warm).
// Bounds (issue 2): at most 1.5× the empty app's wall time, under 300 MB RSS.
// Usage: node tools/run-app.cjs tools/bench-synth.ts [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const runs = Number(process.argv[2] ?? 7);
const scratch = mkdtempSync(join(tmpdir(), 'queue-lanes-bench-'));
const rssFile = join(scratch, 'rss');
const emptyApp = join(root, '.cache', 'bench-empty-app.ts');
mkdirSync(join(root, '.cache'), { recursive: true });
writeFileSync(
  emptyApp,
  `import { App, TerraformStack } from 'cdktf';\n` +
    `const app = new App({ outdir: ${JSON.stringify(join(scratch, 'empty.out'))}, stackTraces: false });\n` +
    `new TerraformStack(app, 'empty');\napp.synth();\n`,
);

interface Sample {
  ms: number;
  rssMb: number;
}

function measure(script: string): Sample {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['--require', join(__dirname, 'report-rss.cjs'), join(__dirname, 'run-app.cjs'), script], {
    cwd: root,
    env: { ...process.env, BENCH_RSS_FILE: rssFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${script} exited ${run.status}`);
  return { ms, rssMb: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const envs = readdirSync(join(root, 'environments'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));
const targets: Record<string, string> = { 'empty cdktf app': emptyApp };
for (const env of envs) targets[env] = join(root, 'apps', env, 'main.ts');

const samples: Record<string, Sample[]> = {};
for (const name of Object.keys(targets)) measure(targets[name]); // warm the transform cache
for (let i = 0; i < runs; i++) {
  // Interleaved, so load on the machine hits every target alike.
  for (const [name, script] of Object.entries(targets)) (samples[name] ??= []).push(measure(script));
}
rmSync(scratch, { recursive: true, force: true });

const baseline = median(samples['empty cdktf app'].map((s) => s.ms));
let failed = false;
process.stdout.write(`synth benchmark, median of ${runs} runs\n`);
for (const [name, list] of Object.entries(samples)) {
  const ms = median(list.map((s) => s.ms));
  const rss = Math.max(...list.map((s) => s.rssMb));
  const ratio = ms / baseline;
  const over = name !== 'empty cdktf app' && (ratio > 1.5 || rss >= 300);
  failed ||= over;
  process.stdout.write(
    `${name.padEnd(16)} ${ms.toFixed(0).padStart(6)} ms  ${ratio.toFixed(2)}×  peak ${rss.toFixed(0)} MB${over ? '  OVER BOUND' : ''}\n`,
  );
}
process.exitCode = failed ? 1 : 0;
