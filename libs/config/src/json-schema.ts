import { z } from 'zod';
import { environmentSchema } from './schema';

/**
 * The JSON Schema editors use for environments/*.yaml, derived from the zod
 * schema ("input" view, so keys with defaults are optional). Written to
 * environments/schema.json by tools/generate-schema.ts.
 */
export function environmentJsonSchema(): string {
  const schema = z.toJSONSchema(environmentSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, $id: 'queue-lanes/environment.schema.json' }, null, 2)}\n`;
}
