import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath, type Problem, type SettingError } from './errors';
import { resolveEnvironment, type EnvironmentConfig } from './resolve';
import { checkRules, type RuleIssue } from './rules';
import { environmentSchema, type EnvironmentFile } from './schema';
import { didYouMean } from './suggest';
import { nulByteProblems } from './text';

type Path = readonly PropertyKey[];

/**
 * Loads and validates one environment file. Throws ConfigError listing every
 * problem as `<file>:<line>:<col> <key path>: <message>`.
 *
 * @param file path to read
 * @param displayPath how the file is named in messages; defaults to `file`
 */
export function loadEnvironment(file: string, displayPath: string = file): EnvironmentConfig {
  if (!existsSync(file)) {
    throw new ConfigError([{ file: displayPath, path: '', message: `file not found${siblingsHint(file)}` }]);
  }
  return parseEnvironment(decodeUtf8(readFileSync(file), displayPath), displayPath, siblingEnvironments(file));
}

/**
 * The file's text, refused at the first byte that is not UTF-8: Node would read it
 * as U+FFFD, and that replacement character would land in a parameter value.
 */
export function decodeUtf8(bytes: Buffer, displayPath: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Byte(bytes);
    const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
    const line = bytes.subarray(0, lineStart).filter((b) => b === 0x0a).length + 1;
    const column = [...bytes.subarray(lineStart, offset).toString('utf8')].length + 1;
    const hex = `0x${bytes[offset].toString(16).padStart(2, '0')}`;
    throw new ConfigError([
      {
        file: displayPath,
        line,
        column,
        path: '',
        message: `byte ${hex} is not UTF-8 (the file was saved in another encoding, or holds binary data); save it as UTF-8`,
      },
    ]);
  }
}

/** Offset of the first byte that does not continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8Byte(bytes: Buffer): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    for (let k = 1; k < length; k++) if (i + k >= bytes.length || (bytes[i + k] & 0xc0) !== 0x80) return i;
    // Overlong forms, surrogates and code points past U+10FFFF are rejected too, as TextDecoder does.
    const second = bytes[i + 1];
    if ((b === 0xe0 && second < 0xa0) || (b === 0xed && second > 0x9f) || (b === 0xf0 && second < 0x90) || (b === 0xf4 && second > 0x8f))
      return i;
    i += length;
  }
  return bytes.length;
}

/** An environment file is a page of YAML; past this it is generated or broken, and parsing it would take minutes. */
export const MAX_FILE_BYTES = 256 * 1024;
/**
 * Lanes one environment file may have, each its own ECS service. It stays below
 * what one backlog controller measures in a tick (the controller's MAX_CONTROLLER_LANES, 110,
 * from CloudWatch's per-call limits), so every environment this accepts fits its controller.
 */
export const MAX_ENVIRONMENT_LANES = 100;

/**
 * Validates environment YAML given as text; `displayPath` names it in messages and
 * fixes the expected environment name. A value naming one of `otherEnvironments`
 * is refused unless its line says `# shared`.
 */
export function parseEnvironment(text: string, displayPath: string, otherEnvironments: readonly string[] = []): EnvironmentConfig {
  refuseOversizedFile(text, displayPath);
  const nul = nulByteProblems(text, displayPath);
  if (nul.length > 0) throw new ConfigError(nul);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at: At = (offset, path, message) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file: displayPath, line, column: col, path, message };
  };
  const data = documentData(text, doc, lineCounter, at);
  refuseTooManyLanes(data, doc, at);
  const parsed = environmentSchema.safeParse(data);
  const expected = basename(displayPath, extname(displayPath));
  const problems: Problem[] = foreignValues(doc, text, lineCounter, expected, otherEnvironments, at);
  problems.push(
    ...(parsed.success
      ? validFileProblems(parsed.data, expected, doc, at)
      : invalidFileProblems(parsed.error.issues, data, doc, at, problems)),
  );
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ConfigError(problems);
  }
  return resolveEnvironment(parsed.data!, displayPath);
}

/** Refuses a file past MAX_FILE_BYTES before parsing it. */
function refuseOversizedFile(text: string, displayPath: string): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) {
    throw new ConfigError([
      {
        file: displayPath,
        path: '',
        message: `the file is ${bytes} bytes; an environment file holds at most ${MAX_FILE_BYTES} (${MAX_ENVIRONMENT_LANES} lanes fit in a fraction of that)`,
      },
    ]);
  }
}

/** The document as plain data; throws on YAML errors, an empty file and aliases that do not resolve. */
function documentData(text: string, doc: Document, lineCounter: LineCounter, at: At): unknown {
  if (doc.errors.length > 0) throw new ConfigError(yamlProblems(text, doc, lineCounter, at));
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new ConfigError([
      at(0, '', 'the file is empty; expected a mapping with app, environment, region, allowedAccountIds, network, image, fleet and lanes'),
    ]);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias without its anchor, or so many aliases the file would expand past any real one.
    throw new ConfigError([aliasProblem(doc, error as Error, at)]);
  }
}

/** Refuses more than MAX_ENVIRONMENT_LANES lanes, at the lanes key, before the schema, which would check every one of them. */
function refuseTooManyLanes(data: unknown, doc: Document, at: At): void {
  const lanes = (data as { lanes?: unknown } | null)?.lanes;
  if (lanes !== null && typeof lanes === 'object' && Object.keys(lanes).length > MAX_ENVIRONMENT_LANES) {
    throw new ConfigError([
      at(
        keyOffset(doc, ['lanes']),
        'lanes',
        `${Object.keys(lanes).length} lanes; an environment has at most ${MAX_ENVIRONMENT_LANES} (each is an ECS service, and the backlog controller measures every Redis lane in one tick)`,
      ),
    ]);
  }
}

/** What a file the schema took still breaks: the rules, and an environment name that is not the file's. */
function validFileProblems(file: EnvironmentFile, expected: string, doc: Document, at: At): Problem[] {
  const problems = ruleProblems(checkRules(file), doc, at);
  if (file.environment !== expected) {
    problems.push(
      at(
        valueOffset(doc, ['environment']),
        'environment',
        `"${file.environment}" does not match the file name; a file ${expected}.yaml must say environment: ${expected}`,
      ),
    );
  }
  return problems;
}

/**
 * The schema's problems, then the rules' over what parsed, so one run reports every
 * mistake, not the schema's first; a rule is not reported on a line that already has a problem.
 */
function invalidFileProblems(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  doc: Document,
  at: At,
  earlier: readonly Problem[],
): Problem[] {
  const problems = issues.flatMap((issue) => issueProblems(issue, data, doc, at));
  const partial = parsedWithout(data, issues);
  if (!partial) return problems;
  const reported = [...earlier, ...problems];
  const misspelt = misspeltKeys(issues, data);
  const rules = checkRules(partial).filter((issue) => !misspelt.some((key) => mayStandFor(issue.path, key)));
  return [...problems, ...ruleProblems(rules, doc, at).filter((p) => !reported.some((q) => q.line === p.line))];
}

/**
 * The file without the parts the schema refused, when leaving them out cannot
 * change what a rule says of the rest: an unknown key is left out (its lane stays,
 * so the lane's other rules still report), a lane with any other problem is left
 * out whole. Undefined when any other key is refused (a default standing in for it
 * could make a rule report a mistake the file does not have), or when what is left
 * still does not parse.
 */
function parsedWithout(data: unknown, issues: readonly z.core.$ZodIssue[]): EnvironmentFile | undefined {
  const copy = structuredClone(data) as Record<string, unknown>;
  if (copy === null || typeof copy !== 'object' || Array.isArray(copy)) return undefined;
  const remove = (path: readonly PropertyKey[]) => {
    const parent = valueAt(copy, path.slice(0, -1) as Path);
    if (parent !== null && typeof parent === 'object') delete (parent as Record<PropertyKey, unknown>)[path[path.length - 1]];
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) remove([...issue.path, key]);
    else if (issue.path[0] === 'lanes' && issue.path.length >= 2) remove(issue.path.slice(0, 2));
    else return undefined;
  }
  const again = environmentSchema.safeParse(copy);
  return again.success ? again.data : undefined;
}

/**
 * The keys an unknown key was probably meant to be (`lanes.bulk.memory` for
 * `lanes.bulk.memroy`), where the mapping does not have them: their defaults stand in
 * for the value the file meant, so what a rule says of them is not said.
 */
function misspeltKeys(issues: readonly z.core.$ZodIssue[], data: unknown): Path[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [];
    const mapping = valueAt(data, issue.path) as Record<string, unknown>;
    const known = knownKeys(issue.path, data);
    return issue.keys.flatMap((key) => {
      const guess = didYouMean(key, known);
      return guess !== undefined && !(guess in mapping) ? [[...issue.path, guess]] : [];
    });
  });
}

/** Whether a rule's key path is inside the mapping of `key` and names it (`lanes.bulk.job.memory` for `lanes.bulk.memory`). */
function mayStandFor(path: Path, key: Path): boolean {
  const mapping = key.slice(0, -1);
  return mapping.every((segment, i) => path[i] === segment) && path.slice(mapping.length).includes(key[key.length - 1]);
}

/** Rule issues at the YAML position of the key each is about. */
function ruleProblems(issues: readonly RuleIssue[], doc: Document, at: At): Problem[] {
  return issues.map((issue) => {
    // A rule about a key the file leaves out, block and all, points at what requires it.
    const path = issue.locate && nodeAt(doc, issue.path.slice(0, 1)) === undefined ? issue.locate : issue.path;
    // A rule about a whole mapping (a lane, httpsEgress) points at its key.
    const offset = isCollection(nodeAt(doc, path)) ? keyOffset(doc, path) : valueOffset(doc, path);
    return at(offset, formatPath(issue.path), issue.message);
  });
}

/**
 * The YAML parser's errors, said plainly: a tab in the indentation is one error
 * per line (the parser's cascade after it is left out); a duplicate key names the
 * key and where it first appears.
 */
function yamlProblems(text: string, doc: Document, lineCounter: LineCounter, at: At): Problem[] {
  const lines = text.split('\n');
  const tabbed = lines.flatMap((line, i) => (/^[ ]*\t/.test(line) ? [i] : []));
  if (doc.errors.some((e) => e.code === 'TAB_AS_INDENT') && tabbed.length > 0) {
    const start = (i: number) => lines.slice(0, i).reduce((sum, l) => sum + l.length + 1, 0);
    return tabbed.map((i) => at(start(i), '', 'a tab indents this line; YAML indents with spaces only, so replace the tab with spaces'));
  }
  return doc.errors.map((e) => {
    if (e.code === 'DUPLICATE_KEY') {
      const { line } = lineCounter.linePos(e.pos[0]);
      const here = lines[line - 1] ?? '';
      const match = /^(\s*)(?:-\s+)?([^:#\s][^:#]*?)\s*:/.exec(here);
      if (match) {
        const [, indent, key] = match;
        const first = lines.slice(0, line - 1).findIndex((l) => new RegExp(`^${indent}(-\\s+)?${escapeRegExp(key)}\\s*:`).test(l));
        const where = first === -1 ? '' : ` (first at line ${first + 1})`;
        return at(e.pos[0], '', `the key "${key}" appears twice in the same mapping${where}; keep one`);
      }
    }
    return at(e.pos[0], '', `invalid YAML: ${yamlMessage(e.message)}`);
  });
}

/**
 * Values that name another environment of the folder: in a file copied from staging,
 * "propertyfeed-media-staging" left in qa.yaml would grant qa's tasks staging's
 * bucket. A value shared on purpose says so with `# shared` on its line.
 */
function foreignValues(doc: Document, text: string, lineCounter: LineCounter, own: string, others: readonly string[], at: At): Problem[] {
  const names = others.filter((name) => name !== own && name.length > 0);
  if (names.length === 0) return [];
  const word = new RegExp(`(?:^|[^a-z0-9])(${names.map(escapeRegExp).join('|')})(?:[^a-z0-9]|$)`, 'i');
  const lines = text.split('\n');
  const problems: Problem[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.range) {
      const found = word.exec(node.value);
      if (!found || path.join('.') === 'environment') return;
      const { line } = lineCounter.linePos(node.range[0]);
      if (/#\s*shared\b/.test(lines[line - 1] ?? '')) return;
      const other = found[1].toLowerCase();
      problems.push(
        at(
          node.range[0],
          formatPath(path),
          `${JSON.stringify(node.value)} names environment ${other}, not ${own}: a value left over from a copy would point ${own} at ${other}'s resources; use ${own}'s own, or end the line with "# shared" if both use it on purpose`,
        ),
      );
    }
  };
  walk(doc.contents, []);
  return problems;
}

/** The other environment files' names beside `file`. */
function siblingEnvironments(file: string): string[] {
  const own = basename(file, '.yaml');
  return environmentsIn(dirname(file)).filter((name) => name !== own);
}

/** The environments of a folder: its `*.yaml` files' names, sorted. */
function environmentsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function siblingsHint(file: string): string {
  const dir = dirname(file);
  if (!existsSync(dir)) return '';
  const names = environmentsIn(dir);
  return names.length ? `; environments here: ${names.join(', ')}` : '';
}

/** yaml's messages end with " at line N, column M:" and a code excerpt; we print the position ourselves. */
function yamlMessage(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

type At = (offset: number | undefined, path: string, message: string) => Problem;

function issueProblems(issue: z.core.$ZodIssue, data: unknown, doc: Document, at: At): Problem[] {
  const path = issue.path;
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, data);
      return issue.keys.map((key) => {
        const guess = didYouMean(key, known);
        const hint = guess ? `did you mean "${guess}"?` : `valid keys: ${known.join(', ')}`;
        return at(keyOffset(doc, [...path, key]), formatPath([...path, key]), `unknown key; ${hint}`);
      });
    }
    case 'invalid_key': {
      const key = String(path[path.length - 1]);
      const inner = issue.issues[0];
      const message =
        inner?.code === 'too_big' || inner?.code === 'too_small'
          ? bound(inner, key)
          : `${describe(key)} ${inner?.message ?? 'is not a valid key'}`;
      return [at(keyOffset(doc, path), formatPath(path), message)];
    }
    case 'invalid_type':
      if (value === undefined) {
        return [at(missingOffset(doc, path), formatPath(path), `is required (${article(issue.expected)})`)];
      }
      if (issue.expected === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
        return [at(valueOffset(doc, path), formatPath(path), `"${value}" is a string, not a number; write it without quotes: ${value}`)];
      }
      return [at(valueOffset(doc, path), formatPath(path), `expected ${article(issue.expected)}, got ${describe(value)}`)];
    case 'invalid_value':
      return [at(valueOffset(doc, path), formatPath(path), oneOf(value, issue.values))];
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) return [at(valueOffset(doc, path), formatPath(path), oneOf(value, options))];
      return [at(valueOffset(doc, path), formatPath(path), `${describe(value)} is not valid here`)];
    }
    case 'too_small':
    case 'too_big':
      return [at(valueOffset(doc, path), formatPath(path), bound(issue, value))];
    case 'invalid_format':
      return [at(valueOffset(doc, path), formatPath(path), `${describe(value)} ${issue.message}`)];
    case 'not_multiple_of':
      return [at(valueOffset(doc, path), formatPath(path), `${describe(value)} must be a multiple of ${issue.divisor}`)];
    default:
      // A refinement about a key the file leaves out points where a missing key does.
      return [at(value === undefined ? missingOffset(doc, path) : valueOffset(doc, path), formatPath(path), issue.message)];
  }
}

function bound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, value: unknown): string {
  const small = issue.code === 'too_small';
  const limit = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
  const inclusive = issue.inclusive !== false;
  const word = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
  switch (issue.origin) {
    case 'array':
      return `must have ${word} ${limit} item${Number(limit) === 1 ? '' : 's'}, got ${(value as unknown[]).length}`;
    case 'string':
      return `must be ${word} ${limit} characters long, got ${describe(value)}`;
    default:
      return `must be ${word} ${limit}, got ${describe(value)}`;
  }
}

function oneOf(value: unknown, values: readonly unknown[]): string {
  const valid = values.map((v) => String(v));
  // YAML reads a quoted number as a string: say so rather than suggest the same spelling.
  if (typeof value === 'string' && values.some((v) => typeof v === 'number' && String(v) === value)) {
    return `"${value}" is a string, not a number; write it without quotes: ${value}`;
  }
  const guess = typeof value === 'string' ? didYouMean(value, valid) : undefined;
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  return `${describe(value)} is not valid${hint}; expected one of: ${valid.join(', ')}`;
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    record: 'a mapping',
    string: 'a string',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
  };
  return names[type] ?? type;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return quoteValue(value);
  return String(value);
}

/** A value as a message quotes it: a long one cut, with its length, so one bad value cannot flood the output. */
function quoteValue(value: string): string {
  const MAX = 80;
  return value.length <= MAX ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, MAX))}… (${value.length} characters)`;
}

function valueAt(data: unknown, path: Path): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** Keys the schema accepts at an object path, for "did you mean" and "valid keys". */
function knownKeys(path: Path, data: unknown): string[] {
  let schema: z.core.$ZodType | undefined = environmentSchema;
  for (let i = 0; i <= path.length && schema; i++) {
    schema = unwrap(schema, valueAt(data, path.slice(0, i)));
    if (i === path.length) break;
    if (schema instanceof z.ZodObject) schema = schema.shape[String(path[i])];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType;
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else schema = undefined;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Strips optional/default wrappers, and picks the union member whose literal matches the data (state.backend). */
function unwrap(schema: z.core.$ZodType, data: unknown): z.core.$ZodType {
  let cur = schema;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodNullable) {
      cur = cur.unwrap();
    } else if (cur instanceof z.ZodDiscriminatedUnion) {
      const disc = cur.def.discriminator;
      const wanted = data && typeof data === 'object' ? (data as Record<string, unknown>)[disc] : undefined;
      const match = cur.options.find((option) => {
        const literal = option instanceof z.ZodObject ? option.shape[disc] : undefined;
        return literal instanceof z.ZodLiteral && literal.values.has(wanted as never);
      });
      cur = match ?? cur.options[0];
    } else if (cur instanceof z.ZodUnion) {
      cur = cur.options[0];
    } else {
      return cur;
    }
  }
}

/**
 * `error` as a problem of the file it came from, at its key's line and column (the
 * key the file has nearest to it, if it does not have the key itself).
 */
export function locateSettingError(text: string, displayPath: string, error: SettingError): ConfigError {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const node = nodeAt(doc, error.path);
  const offset =
    node === undefined ? missingOffset(doc, error.path) : isCollection(node) ? keyOffset(doc, error.path) : valueOffset(doc, error.path);
  const { line, col } = lineCounter.linePos(offset);
  const message = error.message.slice(formatPath(error.path).length + 2);
  return new ConfigError([{ file: displayPath, line, column: col, path: formatPath(error.path), message }]);
}

/** Where the first alias that could not be expanded is, and why. */
function aliasProblem(doc: Document, error: Error, at: (offset: number | undefined, path: string, message: string) => Problem): Problem {
  let first: { offset: number; source: string; resolved: boolean } | undefined;
  visit(doc, {
    Alias(_, node) {
      const entry = { offset: node.range?.[0] ?? 0, source: node.source, resolved: node.resolve(doc) !== undefined };
      if (!first || (!entry.resolved && first.resolved)) first = entry;
      return entry.resolved ? undefined : visit.BREAK;
    },
  });
  if (first && !first.resolved) {
    return at(
      first.offset,
      '',
      `the alias *${first.source} names no anchor (&${first.source}) set before it; define the anchor first, or write the value out`,
    );
  }
  return at(
    first?.offset,
    '',
    `aliases would expand this file too far (${error.message}); write the values out instead of nesting aliases`,
  );
}

function nodeAt(doc: Document, path: Path): Node | undefined {
  const node = doc.getIn(path as unknown[], true);
  return node && typeof node === 'object' && 'range' in (node as object) ? (node as Node) : undefined;
}

function valueOffset(doc: Document, path: Path): number {
  for (let i = path.length; i >= 0; i--) {
    const node = nodeAt(doc, path.slice(0, i));
    if (node?.range) return node.range[0];
    if (i > 0) {
      const key = keyNode(doc, path.slice(0, i));
      if (key?.range) return key.range[0];
    }
  }
  return 0;
}

function keyNode(doc: Document, path: Path): Node | undefined {
  const parent = path.length === 1 ? doc.contents : nodeAt(doc, path.slice(0, -1));
  if (!isMap(parent)) return undefined;
  const last = path[path.length - 1];
  const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

function keyOffset(doc: Document, path: Path): number {
  return keyNode(doc, path)?.range?.[0] ?? valueOffset(doc, path);
}

/** A missing key is reported at the key that owns its mapping (lanes.image: for lanes.image.queues). */
function missingOffset(doc: Document, path: Path): number {
  const parent = path.slice(0, -1);
  if (parent.length === 0) return 0;
  return keyNode(doc, path)?.range?.[0] ?? keyNode(doc, parent)?.range?.[0] ?? valueOffset(doc, parent);
}
