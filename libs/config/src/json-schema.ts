import { z } from 'zod';
import { FARGATE_MEMORY, environmentSchema, laneSchema, queueName } from './schema';

/**
 * The JSON Schema editors use for environments/*.yaml, derived from the zod
 * schema ("input" view, so keys with defaults are optional). Written to
 * environments/schema.json by tools/generate-schema.ts.
 *
 * Two of the cross-field rules JSON Schema can say too, from the same tables the
 * rules use, so an editor flags them as they are typed: a lane's memory must be
 * a Fargate size for its cpu, and no lane consumes the "default" queue.
 */
export function environmentJsonSchema(): string {
  const schema = z.toJSONSchema(environmentSchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === queueName) {
        jsonSchema.not = { const: 'default', description: 'The default queue stays on the web hosts.' };
      } else if (zodSchema === laneSchema) {
        jsonSchema.allOf = Object.entries(FARGATE_MEMORY).map(([cpu, memory]) => ({
          if: { properties: { cpu: { const: Number(cpu) } }, required: ['cpu'] },
          then: { properties: { memory: { enum: [...memory] } } },
        }));
      }
    },
  });
  return `${JSON.stringify({ ...schema, $id: 'queue-lanes/environment.schema.json' }, null, 2)}\n`;
}
