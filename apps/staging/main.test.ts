import { join } from 'node:path';
import { loadNamedEnvironment, synthesizeToJson } from '@queue-lanes/stacks';

const env = loadNamedEnvironment(join(__dirname, '..', '..'), 'staging');
const stacks = synthesizeToJson(env);

describe('staging', () => {
  it('runs the production lanes, smaller', () => {
    expect(env.lanes.map((l) => l.name)).toEqual(['sync', 'image', 'bulk']);
    expect(env.fleet.maxTasks).toBeLessThan(16);
    expect(Math.max(...env.lanes.map((l) => l.tasks.max))).toBe(1);
  });

  it('keeps state locally by default, one file per stack', () => {
    expect((stacks.workers as { terraform: { backend: unknown } }).terraform.backend).toEqual({
      local: { path: '../../../terraform.propertyfeed-staging-workers.tfstate' },
    });
  });
});
