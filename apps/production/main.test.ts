import { join } from 'node:path';
import { loadNamedEnvironment, synthesizeToJson } from '@queue-lanes/stacks';

const env = loadNamedEnvironment(join(__dirname, '..', '..'), 'production');
const stacks = synthesizeToJson(env);

describe('production', () => {
  it('follows the rollout plan: sync, image and bulk at baseline 1/1/1', () => {
    expect(env.lanes.map((l) => [l.name, l.stage, l.tasks.baseline])).toEqual([
      ['sync', 'baseline', 1],
      ['image', 'baseline', 1],
      ['bulk', 'baseline', 1],
    ]);
  });

  it('keeps burst/drain ranges sync 0..1, image 0..2, bulk 0..1', () => {
    expect(Object.fromEntries(env.lanes.map((l) => [l.name, [l.tasks.min, l.tasks.max]]))).toEqual({
      sync: [0, 1],
      image: [0, 2],
      bulk: [0, 1],
    });
  });

  it('leaves the default queue on the hosts', () => {
    expect(env.lanes.flatMap((l) => l.queues)).not.toContain('default');
  });

  it('allows one lane change at a time', () => {
    expect(env.guardrails.oneLaneAtATime).toBe(true);
  });

  it('keeps each stack state under its own S3 key', () => {
    expect(Object.values(stacks).map((s) => (s as { terraform: { backend: { s3: { key: string } } } }).terraform.backend.s3.key)).toEqual([
      'propertyfeed/production/networking.tfstate',
      'propertyfeed/production/parameters.tfstate',
      'propertyfeed/production/workers.tfstate',
      'propertyfeed/production/scaling.tfstate',
    ]);
  });
});
