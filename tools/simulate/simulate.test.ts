import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEnvironment, parameterPathPrefix, parseEnvironment } from '@queue-lanes/config';
import { buildControllerConfig } from '@queue-lanes/contract/environment';
import { renderTable, simulatedControllerConfig } from '@queue-lanes/simulator';
import { simulateEnvironment, simulatedController, workloadLanes } from './environment';

const stagingFile = join(__dirname, '..', '..', 'environments', 'staging.yaml');
const staging = loadEnvironment(stagingFile, 'environments/staging.yaml');

describe('nx run <env>:simulate', () => {
  it("takes the environment's Redis lanes with their policy and workers", () => {
    const policy = new Map(simulatedController(staging).lanes.map((l) => [l.name, l.backlogPerTask]));
    expect(workloadLanes(staging).map((l) => [l.name, l.min, l.max, policy.get(l.name), l.workers, l.jobTimeout])).toEqual([
      // Two process groups of one process each (urgent on sync-urgent, main on sync-urgent then sync).
      ['sync', 0, 1, 50, 2, 60],
      ['image', 0, 1, 50, 1, 90],
      ['bulk', 0, 1, 10, 1, 110],
    ]);
    expect(workloadLanes(staging)[0].groups).toEqual([
      { queues: ['sync-urgent'], processes: 1 },
      { queues: ['sync-urgent', 'sync'], processes: 1 },
    ]);
  });

  it('runs one lane through one workload, stranding nothing', async () => {
    const [result] = await simulateEnvironment(staging, { lane: 'image', workload: 'burst-100x20s' });
    expect(result.workload).toBe('burst-100x20s');
    expect(result.lanes).toEqual([expect.objectContaining({ lane: 'image', jobs: 100, done: 100, stuck: 0, killed: 0 })]);
  });

  it('gives a workload the same figures whichever lanes are selected', async () => {
    // bulk's scheduled import, alone and beside the other lanes (whose two-lane workload is built too).
    const alone = await simulateEnvironment(staging, { lane: 'bulk', workload: 'scheduled-import' });
    const together = await simulateEnvironment(staging, { workload: 'scheduled-import' });
    expect(together.map((r) => r.lanes)).toEqual(alone.map((r) => r.lanes));
    expect(together[0].lanes[0]).toMatchObject({ lane: 'bulk', jobs: 50 });
  });

  it('says that a burst on a one-task lane waits three times maxPickupSeconds, and which setting to raise', async () => {
    const [burst] = await simulateEnvironment(staging, { lane: 'image', workload: 'burst-100x20s' });
    expect(burst.lanes[0].wait.p95).toBe(1881);
    expect(burst.verdicts.image).toEqual({
      pickupRatio: 3.1,
      meets: false,
      lever: 'tasks.max (1) or workers (1): even perfect foresight within them waits 1803 s',
    });
    expect(renderTable([burst]).split('\n')[2]).toMatch(
      /^\| burst-100x20s \| image \| misses, 3\.1× \|.* \| tasks\.max \(1\) or workers \(1\): /,
    );
  });

  it('names the lanes it has when asked for another', async () => {
    await expect(simulateEnvironment(staging, { lane: 'nope' })).rejects.toThrow('no lane "nope"; lanes: sync, image, bulk');
  });

  it('runs the controller on what synth writes, so a policy key set in the file reaches it with no code in the simulator', () => {
    const edited = parseEnvironment(
      readFileSync(stagingFile, 'utf8').replace(
        '    job: { timeout: 90, memory: 512 }\n',
        '    job: { timeout: 90, memory: 512 }\n    maxPickupSeconds: 45\n    drainMinutes: 7\n',
      ),
      'environments/staging.yaml',
    );
    const simulated = (env: typeof staging) =>
      simulatedControllerConfig(
        {
          lanes: workloadLanes(env),
          controller: simulatedController(env),
          fleetMaxTasks: 1,
          workload: { name: 'none', description: '', seconds: 0, jobs: [] },
        },
        'sim_',
        90,
      );
    const image = (env: typeof staging) => simulated(env).lanes.find((l) => l.name === 'image');
    expect([image(staging)?.maxPickupSeconds, image(staging)?.drainMinutes]).toEqual([600, 15]);
    expect([image(edited)?.maxPickupSeconds, image(edited)?.drainMinutes]).toEqual([45, 7]);
    // Every policy key as synth writes it: only where things are (service, metrics) is the simulation's.
    const written = buildControllerConfig(edited, { parameterPathPrefix: parameterPathPrefix(edited) }).lanes.find(
      (l) => l.name === 'image',
    );
    const policy = ({ service: _s, finishedJobsMetric: _f, failedJobsMetric: _x, ...rest }: Record<string, unknown>) => rest;
    expect(policy({ ...image(edited) })).toEqual(expect.objectContaining(policy({ ...written })));
  });
});
