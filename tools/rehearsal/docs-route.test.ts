import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { diffFor, forEnvironment, planIsClean, routeBlocks, routeScript } from './docs-route';

const root = join(__dirname, '..', '..');

describe("README's deploy route, as the rehearsal runs it", () => {
  const blocks = routeBlocks(root);

  it('is the deploy and diff blocks README shows, found by their fences', () => {
    expect(blocks.deploy.script).toContain("npx cdktf deploy 'propertyfeed-production-*'");
    expect(blocks.diff.script).toContain('npx cdktf diff propertyfeed-production-workers');
    expect([blocks.deploy.file, blocks.deploy.where, blocks.deploy.step]).toEqual(['README.md', 'aws', 'deploy']);
  });

  it("runs another environment's app folder and stacks in production's place", () => {
    expect(forEnvironment(blocks.deploy.script, { app: 'propertyfeed', environment: 'staging' })).toBe(
      blocks.deploy.script.replace('apps/production', 'apps/staging').replace('propertyfeed-production-*', 'propertyfeed-staging-*'),
    );
    expect(diffFor(blocks.diff.script, 'propertyfeed-production-scaling')).toContain('npx cdktf diff propertyfeed-production-scaling');
  });

  it('adds --auto-approve and --skip-provider-lock through a shell function, leaving the text as written', () => {
    const echoing = routeScript('npx cdktf deploy x\nnpx cdktf diff y\nnpx nx --version').replace(/command npx/g, 'echo');
    const run = spawnSync('bash', ['-c', echoing], { encoding: 'utf8' });
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      'cdktf deploy x --auto-approve --skip-provider-lock',
      'cdktf diff y --skip-provider-lock',
      'nx --version',
    ]);
    expect(routeScript(blocks.deploy.script)).toContain(blocks.deploy.script);
  });

  it("reads the engine's no-change line through cdktf's colours", () => {
    expect(
      planIsClean(
        'stack  \u001b[0m\u001b[1m\u001b[32mNo changes.\u001b[0m\u001b[1m Your infrastructure matches the configuration.\u001b[0m',
      ),
    ).toBe(true);
    expect(planIsClean('stack  Plan: 0 to add, 1 to change, 0 to destroy.')).toBe(false);
  });
});
