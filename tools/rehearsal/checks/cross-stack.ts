/*
 * Check: every terraform_remote_state read of a stack resolves, after apply, to the
 * producing stack's output.
 */
import { stateKey } from '../override';
import type { StackJson, StackRun } from '../rehearsal';
import { cell } from '../report';
import { tofu, type Toolchain } from '../../terraform/tofu';

/** One terraform_remote_state read, checked against the producing stack's output. */
export interface CrossStackCheck {
  readonly consumer: string;
  readonly data: string;
  readonly output: string;
  readonly producer?: string;
  readonly resolved: boolean;
  readonly note: string;
}

/** One cross-stack read: data.terraform_remote_state.<data>.outputs.<output>. */
export interface RemoteStateReference {
  readonly data: string;
  readonly output: string;
}

/** Every remote-state output a stack reads, found in its expressions. */
export function remoteStateReferences(stack: StackJson): RemoteStateReference[] {
  const found = new Map<string, RemoteStateReference>();
  const pattern = /data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g;
  for (const match of JSON.stringify(stack).matchAll(pattern)) {
    found.set(`${match[1]}.${match[2]}`, { data: match[1], output: match[2] });
  }
  return [...found.values()].sort((a, b) => `${a.data}.${a.output}`.localeCompare(`${b.data}.${b.output}`));
}

/** Checks every remote-state read of `stack` against the producing stack's outputs. */
export function crossStackChecks(
  stack: StackRun,
  json: StackJson,
  runs: readonly StackRun[],
  toolchain: Toolchain,
  env: NodeJS.ProcessEnv,
): CrossStackCheck[] {
  const references = remoteStateReferences(json);
  if (references.length === 0) return [];
  const show = tofu(toolchain, env, stack.dir, ['show', '-json']);
  const resources = ((JSON.parse(show.stdout || '{}') as StateJson).values?.root_module?.resources ?? []).filter(
    (r) => r.mode === 'data' && r.type === 'terraform_remote_state',
  );
  return references.map((ref) => {
    const block = json.data?.terraform_remote_state?.[ref.data] ?? {};
    const config = (block.config ?? {}) as Record<string, unknown>;
    const key = stateKey(String(block.backend ?? 'local'), config, `${ref.data}.tfstate`);
    const producer = runs.find((r) => r.stateKey === key);
    const read = resources.find((r) => r.name === ref.data)?.values?.outputs as Record<string, unknown> | undefined;
    const value = read?.[ref.output];
    const expected = producer?.outputs?.[ref.output]?.value;
    let note: string;
    let resolved = false;
    if (!producer) note = `no stack of this rehearsal writes state key ${key}`;
    else if (value === undefined || value === null) note = `not in ${producer.name}'s state`;
    else if (JSON.stringify(value) !== JSON.stringify(expected))
      note = `reads ${cell(value, 60)}, ${producer.name} has ${cell(expected, 60)}`;
    else {
      resolved = true;
      note = cell(value, 80);
    }
    return { consumer: stack.name, data: ref.data, output: ref.output, producer: producer?.name, resolved, note };
  });
}

interface StateJson {
  readonly values?: {
    readonly root_module?: {
      readonly resources?: readonly { mode: string; type: string; name: string; values?: Record<string, unknown> }[];
    };
  };
}
