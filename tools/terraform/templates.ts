/*
 * The templates Terraform reads in synthesized JSON: every string of every stack is
 * a template to it, so a `${` or `%{` that is not escaped (`$${`, `%%{`) is evaluated.
 * Synth writes templates only as references to what a stack declares; anything else
 * came from a value of the environment file that did not land as a literal.
 */

/** Every string of a JSON value, with its dotted path. */
export function jsonStrings(value: unknown, path = ''): [path: string, text: string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => jsonStrings(item, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => jsonStrings(inner, path ? `${path}.${key}` : key));
  }
  return [];
}

/**
 * The templates Terraform reads in `text`: each unescaped `${` or `%{` to its closing
 * brace (`$${` and `%%{` are literal). A string holding JSON (a policy, a container's
 * definitions) is one string to Terraform, read as a whole.
 */
export function templates(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('$${', i) || text.startsWith('%%{', i)) {
      i += 2;
    } else if (text.startsWith('${', i) || text.startsWith('%{', i)) {
      let depth = 0;
      let end = i + 1;
      for (; end < text.length; end++) {
        if (text[end] === '{') depth += 1;
        else if (text[end] === '}' && --depth === 0) break;
      }
      found.push(text.slice(i, end + 1));
      i = end;
    }
  }
  return found;
}

/** Terraform's own named values cdktf refers to (a remote state read names the reader's workspace). */
const NAMED_VALUES = new Set(['${terraform.workspace}']);

/**
 * `<path>: <template>` for each template of a stack that is not a reference to a
 * resource or data source it declares, or to one of Terraform's own named values.
 */
export function foreignTemplates(stack: Readonly<Record<string, unknown>>): string[] {
  const declared = new Set<string>();
  for (const [kind, prefix] of [
    ['resource', ''],
    ['data', 'data.'],
  ] as const) {
    for (const [type, blocks] of Object.entries((stack[kind] ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const name of Object.keys(blocks)) declared.add(`${prefix}${type}.${name}`);
    }
  }
  return jsonStrings(stack).flatMap(([path, text]) =>
    templates(text)
      .filter((template) => {
        if (NAMED_VALUES.has(template)) return false;
        const address = /^\$\{((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:[.[][^${}]*)?\}$/.exec(template)?.[1];
        return address === undefined || !declared.has(address);
      })
      .map((template) => `${path}: ${template}`),
  );
}
