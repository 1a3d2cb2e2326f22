import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { ConfigError, SettingError, parseEnvironment } from '@queue-lanes/config';
import { synthesizeToJson } from '@queue-lanes/stacks/testing';

/*
 * Mutations of every environment file, seeded: whatever a person (or a merge)
 * does to the file, synth either accepts it or names the file, line and key of
 * every problem; it never throws a stack trace at them. The accepted ones are
 * synthesized too (a sample: synth takes about a second), where a construct may
 * only refuse with a located SettingError.
 */

const root = join(__dirname, '..', '..');
const files = readdirSync(join(root, 'environments'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => ({ name: `environments/${f}`, text: readFileSync(join(root, 'environments', f), 'utf8') }));

type Path = (string | number)[];

/** Every path to a node of the document, mappings, sequences and scalars alike. */
function paths(doc: Document): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, path: Path) => {
    out.push(path);
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)]);
    else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
  };
  walk(doc.contents, []);
  return out.slice(1);
}

/** What a value may be replaced with: the classes the first fuzzing found. */
const VALUES: unknown[] = [
  '',
  ' ',
  'v1 ; rm -rf /',
  '\tx',
  '{lane}{queues}',
  'x'.repeat(300),
  'not a repository',
  '🚀',
  'a\nb',
  '../../../../tmp',
  'http://evil example',
  'Bad Bucket!!',
  -1,
  0,
  1.5,
  1e15,
  4294967296,
  true,
  null,
  [],
  {},
  ['default'],
  { zebra: 1 },
];

const mutation = fc.record({
  file: fc.integer({ min: 0, max: files.length - 1 }),
  target: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'unknown-key', 'duplicate-lane', 'quote-number'),
  value: fc.integer({ min: 0, max: VALUES.length - 1 }),
});

/** The file with one mutation applied (an operation that does not fit the node leaves it as it is). */
function mutate(m: { file: number; target: number; op: string; value: number }): { name: string; text: string } {
  const file = files[m.file];
  const doc = parseDocument(file.text);
  const all = paths(doc);
  const path = all[m.target % all.length];
  switch (m.op) {
    case 'replace':
      doc.setIn(path, doc.createNode(VALUES[m.value]));
      break;
    case 'delete':
      doc.deleteIn(path);
      break;
    case 'unknown-key': {
      const parent = path.slice(0, -1);
      const node = parent.length ? doc.getIn(parent, true) : doc.contents;
      if (isMap(node)) doc.setIn([...parent, 'zzz-unknown'], 1);
      else doc.setIn(path, doc.createNode(VALUES[m.value]));
      break;
    }
    case 'duplicate-lane': {
      const lanes = doc.getIn(['lanes'], true);
      if (isMap(lanes) && lanes.items.length > 0)
        doc.setIn(['lanes', 'copy'], doc.createNode((lanes.items[0].value as { toJSON(): unknown }).toJSON()));
      break;
    }
    case 'quote-number': {
      const node = doc.getIn(path, true);
      if (isScalar(node) && typeof node.value === 'number') doc.setIn(path, String(node.value));
      break;
    }
  }
  return { name: file.name, text: doc.toString() };
}

describe('every environment file, mutated', () => {
  let synthesized = 0;
  let refused = 0;
  let accepted = 0;

  it('is accepted or refused with the file, line and key of every problem; never a stack trace', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const { name, text } = mutate(m);
        let env;
        try {
          env = parseEnvironment(text, name);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw new Error(`not a located problem: ${(error as Error).stack}`);
          refused += 1;
          for (const p of error.problems) {
            expect(p.file).toBe(name);
            // A problem of the whole file (its size) has no line; every other one has.
            if (p.path !== '' || !p.message.startsWith('the file is')) expect(p.line).toBeGreaterThanOrEqual(1);
          }
          return;
        }
        accepted += 1;
        // Accepted: synth it, for the first few (each takes about a second).
        if (synthesized >= 8) return;
        synthesized += 1;
        try {
          synthesizeToJson(env);
        } catch (error) {
          if (!(error instanceof SettingError))
            throw new Error(`synth threw where the file was accepted: ${(error as Error).message}\n${text}`);
        }
      }),
      { seed: 20261201, numRuns: 400 },
    );
    // The mutations reach both outcomes, so the assertions above ran on each.
    expect(refused).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(20);
    expect(synthesized).toBe(8);
  });
});
