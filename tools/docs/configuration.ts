/*
 * docs/configuration.md, rendered from the environment's JSON Schema, which is
 * rendered from the zod schema in libs/config: one declaration gives the types,
 * the validation, the editor's completion and this page. A workspace test fails
 * when the page is stale (regenerate: npx tsx tools/generate-schema.ts).
 */

/** The parts of JSON Schema that environmentJsonSchema() emits. */
interface Node {
  readonly type?: string | readonly string[];
  readonly description?: string;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, Node>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Node;
  readonly propertyNames?: Node;
  readonly items?: Node;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly oneOf?: readonly Node[];
  readonly anyOf?: readonly Node[];
  readonly allOf?: readonly Node[];
  readonly not?: Node;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}

const LONG_ENUM = 12;

export function configurationReference(jsonSchema: string): string {
  const root = JSON.parse(jsonSchema) as Node;
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from the environment schema by `npx tsx tools/generate-schema.ts`; edit libs/config/src/schema.ts, not this page. -->',
    '',
    'Every key of `environments/<env>.yaml`. The same schema drives synthesis (an unknown key or a wrong value fails it',
    'at file:line with what would be valid) and `environments/schema.json`, which gives editors completion.',
    'Rules that span keys (a queue in one lane only, a Fargate memory for the cpu, the guardrails) are listed in',
    '[the design](design.md#the-rules).',
    '',
  ];
  section(out, '', root, 2);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

/** One heading per object: a table of its keys, then a heading for each key that is itself an object. */
function section(out: string[], path: string, node: Node, depth: number): void {
  const variants = objectVariants(node);
  if (variants) {
    for (const [label, variant] of variants) {
      out.push(`${'#'.repeat(Math.min(depth, 6))} \`${path}\` with ${label}`, '');
      if (variant.description) out.push(prose(variant.description), '');
      table(out, path, variant, depth + 1);
    }
    return;
  }
  table(out, path, node, depth);
}

function table(out: string[], path: string, node: Node, depth: number): void {
  const properties = Object.entries(node.properties ?? {});
  const required = new Set(node.required ?? []);
  if (properties.length > 0) {
    out.push('| key | type | default | description |', '| --- | --- | --- | --- |');
    for (const [key, child] of properties) {
      const name = required.has(key) ? `\`${key}\` (required)` : `\`${key}\``;
      out.push(`| ${name} | ${cell(typeOf(child))} | ${cell(defaultOf(child))} | ${cell(describe(child))} |`);
    }
    out.push('');
  }
  for (const [key, child] of properties) {
    const childPath = path ? `${path}.${key}` : key;
    if (isObject(child) && hasKeys(child)) {
      out.push(`${'#'.repeat(Math.min(depth, 6))} \`${childPath}\``, '');
      if (child.description) out.push(prose(child.description), '');
      section(out, childPath, child, depth + 1);
    }
    const entry = mapEntry(child);
    if (entry && hasKeys(entry)) {
      const entryPath = `${childPath}.<${singular(key)}>`;
      out.push(`${'#'.repeat(Math.min(depth, 6))} \`${entryPath}\``, '');
      if (child.propertyNames) out.push(`A ${singular(key)} name: ${constraints(child.propertyNames).join(', ')}.`, '');
      section(out, entryPath, entry, depth + 1);
    }
    const item = child.items;
    if (item && isObject(item) && hasKeys(item)) {
      out.push(`${'#'.repeat(Math.min(depth, 6))} \`${childPath}[]\``, '');
      section(out, `${childPath}[]`, item, depth + 1);
    }
  }
}

/** The variants of a oneOf of objects, each labelled by the key whose const tells them apart. */
function objectVariants(node: Node): [string, Node][] | undefined {
  if (!node.oneOf?.every(isObject)) return undefined;
  return node.oneOf.map((variant, index) => {
    const tag = Object.entries(variant.properties ?? {}).find(([, p]) => p.const !== undefined);
    return [tag ? `\`${tag[0]}: ${String(tag[1].const)}\`` : `variant ${index + 1}`, variant];
  });
}

function isObject(node: Node): boolean {
  return node.type === 'object' || node.properties !== undefined || node.oneOf?.every(isObject) === true;
}

function hasKeys(node: Node): boolean {
  return Object.keys(node.properties ?? {}).length > 0 || (node.oneOf?.every(isObject) ?? false);
}

/** The value schema of a map (`lanes`, `parameters.plain`): an object keyed by names the user chooses. */
function mapEntry(node: Node): Node | undefined {
  return typeof node.additionalProperties === 'object' && node.properties === undefined ? node.additionalProperties : undefined;
}

function singular(key: string): string {
  return key.endsWith('s') ? key.slice(0, -1) : key;
}

function typeOf(node: Node): string {
  const variants = objectVariants(node);
  if (variants) return `object, one of ${variants.map(([label]) => label).join(', ')}`;
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  if (node.enum) {
    if (node.enum.length > LONG_ENUM) return `one of ${node.enum.length} values (see schema.json), e.g. \`${String(node.enum[0])}\``;
    return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  }
  const alternatives = node.anyOf ?? (node.oneOf && !node.oneOf.every(isObject) ? node.oneOf : undefined);
  if (alternatives) return alternatives.map(typeOf).join(' or ');
  const types = Array.isArray(node.type) ? (node.type as string[]) : node.type ? [node.type as string] : [];
  const base = types.map((type) => {
    if (type === 'array') return node.items ? `list of ${typeOf(node.items)}` : 'list';
    if (type === 'object') {
      const entry = mapEntry(node);
      if (entry) return `map of ${isObject(entry) ? 'objects' : typeOf(entry)}`;
      return 'object';
    }
    return type;
  });
  const limits = constraints(node);
  return [base.join(' or ') || 'any', ...limits].join(', ');
}

function constraints(node: Node): string[] {
  const out: string[] = [];
  if (node.minimum !== undefined && node.maximum !== undefined) out.push(`${node.minimum} to ${node.maximum}`);
  else if (node.minimum !== undefined) out.push(`at least ${node.minimum}`);
  else if (node.maximum !== undefined) out.push(`at most ${node.maximum}`);
  if (node.exclusiveMinimum !== undefined) out.push(`above ${node.exclusiveMinimum}`);
  if (node.minItems !== undefined && node.maxItems !== undefined) out.push(`${node.minItems} to ${node.maxItems} items`);
  else if (node.minItems !== undefined) out.push(`at least ${node.minItems} item${node.minItems === 1 ? '' : 's'}`);
  else if (node.maxItems !== undefined) out.push(`at most ${node.maxItems} items`);
  if (node.maxLength !== undefined) out.push(`at most ${node.maxLength} characters`);
  if (node.pattern !== undefined) out.push(`matching \`${node.pattern}\``);
  if (node.not?.const !== undefined) out.push(`not \`${String(node.not.const)}\``);
  return out;
}

function defaultOf(node: Node): string {
  if (node.default === undefined) return '';
  const text = JSON.stringify(node.default);
  return text.length > 40 ? '(see below)' : `\`${text}\``;
}

function describe(node: Node): string {
  return node.description ?? '';
}

/** Text for markdown: outside code spans, < and > as entities (<app> is not an HTML tag). */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('');
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return prose(text.replace(/\s+/g, ' ').trim()).replace(/(?<!\\)\|/g, '\\|');
}
