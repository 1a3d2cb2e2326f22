// Writes environments/schema.json (editor completion for environments/*.yaml)
// from the zod schema in libs/config. A workspace test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentJsonSchema } from '@queue-lanes/config';

const target = join(__dirname, '..', 'environments', 'schema.json');
writeFileSync(target, environmentJsonSchema());
process.stdout.write(`wrote ${target}\n`);
