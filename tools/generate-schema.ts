// Writes environments/schema.json (editor completion for environments/*.yaml) and
// docs/configuration.md (the reference) from the zod schema in libs/config. A
// workspace test fails when either is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentJsonSchema } from '@queue-lanes/config';
import { configurationReference } from './docs/configuration';

const root = join(__dirname, '..');
const schema = environmentJsonSchema();
for (const [file, text] of [
  [join(root, 'environments', 'schema.json'), schema],
  [join(root, 'docs', 'configuration.md'), configurationReference(schema)],
]) {
  writeFileSync(file, text);
  process.stdout.write(`wrote ${file}\n`);
}
