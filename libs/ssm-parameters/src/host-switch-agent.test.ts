import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { STAGES, laneParameterName } from '@queue-lanes/config';
import { hostConsumerState } from './parameter-store';

/**
 * The host-consumer switch is written on both sides of the wire: this stack publishes it
 * (libs/config names.ts, parameter-store.ts) and the web hosts' agent reads it
 * (libs/host-agent, Python). The agent's own name and values, read from its file by Python.
 */
const AGENT = join(__dirname, '..', '..', 'host-agent', 'src', 'queue_lanes_host_agent.py');

function agentSide(app: string, environment: string, lane: string): { name: string; values: string[] } {
  const script = [
    'import importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("agent", sys.argv[1])',
    'agent = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(agent)',
    'print(json.dumps({"name": agent.switch_name(*sys.argv[2:5]), "values": list(agent.SWITCH_VALUES)}))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', script, AGENT, app, environment, lane], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 could not load ${AGENT}: ${run.stderr || run.error}`);
  return JSON.parse(run.stdout);
}

describe('the host-consumer switch, as the stack writes it and the host agent reads it', () => {
  const agent = agentSide('propertyfeed', 'production', 'image');

  it('is the same parameter', () => {
    const env = { app: 'propertyfeed', environment: 'production' };
    expect(agent.name).toBe(laneParameterName(env, 'image', 'host-consumer'));
  });

  it('takes the same values', () => {
    const published = [...new Set(STAGES.map(hostConsumerState))].sort();
    expect([...agent.values].sort()).toEqual(published);
  });
});
