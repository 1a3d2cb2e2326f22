import { cdktfCommandProblems, cdktfFlags } from './cdktf-commands';

// Production's stacks as cdktf's manifest.json records them (apps/production/cdktf.out).
const GRAPH = {
  'propertyfeed-production-networking': [],
  'propertyfeed-production-parameters': [],
  'propertyfeed-production-workers': ['propertyfeed-production-parameters', 'propertyfeed-production-networking'],
  'propertyfeed-production-scaling': [
    'propertyfeed-production-parameters',
    'propertyfeed-production-networking',
    'propertyfeed-production-workers',
  ],
};
const problems = (command: string) => cdktfCommandProblems(command, GRAPH);

describe('a cdktf command, checked as cdktf 0.21 checks it', () => {
  it('takes every stack by a quoted pattern, or all of them named', () => {
    expect(problems("npx cdktf deploy 'propertyfeed-production-*'")).toEqual([]);
    expect(problems("npx cdktf deploy 'propertyfeed-production-*' --auto-approve --skip-provider-lock")).toEqual([]);
    expect(
      problems(
        'npx cdktf deploy propertyfeed-production-networking propertyfeed-production-parameters propertyfeed-production-workers propertyfeed-production-scaling',
      ),
    ).toEqual([]);
    expect(problems('npx cdktf deploy propertyfeed-production-networking propertyfeed-production-parameters')).toEqual([]);
  });

  it('refuses the per-stack deploy the docs used to show: its dependencies are not in the list', () => {
    expect(problems('npx cdktf deploy propertyfeed-production-workers propertyfeed-production-scaling')).toEqual([
      'cdktf deploy: the following dependencies are not included in the stacks to run: propertyfeed-production-networking, propertyfeed-production-parameters',
    ]);
    expect(
      problems('npx cdktf deploy propertyfeed-production-workers propertyfeed-production-scaling --ignore-missing-stack-dependencies'),
    ).toEqual([
      'cdktf deploy: --ignore-missing-stack-dependencies drops every dependency, the order between the named stacks included; name the stacks they read from instead',
    ]);
  });

  it('refuses a destroy that leaves a stack reading from a destroyed one', () => {
    expect(problems('npx cdktf destroy propertyfeed-production-workers')).toEqual([
      'cdktf destroy: the following dependant stacks are not included in the stacks to run: propertyfeed-production-scaling',
    ]);
    expect(problems("npx cdktf destroy 'propertyfeed-production-*' --auto-approve")).toEqual([]);
  });

  it('takes one stack, by its name, for a diff', () => {
    expect(problems('npx cdktf diff propertyfeed-production-workers')).toEqual([]);
    expect(problems("npx cdktf diff 'propertyfeed-production-*'")).toEqual([
      'cdktf diff: propertyfeed-production-* is not a stack of the app ("Could not find stack")',
    ]);
    expect(problems('npx cdktf diff propertyfeed-production-workers propertyfeed-production-scaling')).toEqual([
      'cdktf diff: takes one stack, not 2',
    ]);
    expect(problems('npx cdktf diff')).toEqual(['cdktf diff: names no stack, and the app has 4 ("Found more than one stack")']);
  });

  it("refuses a flag the verb's own --help does not list, and a pattern that matches nothing", () => {
    expect(problems('npx cdktf diff propertyfeed-production-workers --auto-aprove')).toEqual([
      'cdktf diff: --auto-aprove is not an option of cdktf diff (cdktf diff --help)',
    ]);
    expect(problems("npx cdktf deploy 'propertyfeed-staging-*'")).toEqual([
      'cdktf deploy: propertyfeed-staging-* matches no stack of the app ("Could not find stack for pattern")',
    ]);
    expect([...cdktfFlags('deploy')]).toEqual(
      expect.arrayContaining(['--skip-provider-lock', '--auto-approve', '--ignore-missing-stack-dependencies']),
    );
    expect([...cdktfFlags('diff')]).not.toContain('--ignore-missing-stack-dependencies');
  });
});
