import { ConfigError, parseEnvironment } from './index';
import { SAMPLE_BLOCKS } from './testing';

/*
 * Names and ids the file hands to AWS or Terraform Cloud, refused at their line
 * when those would refuse them (or when no one could mean them): each rule's
 * failing example and its exact message.
 */

const FILE = 'environments/staging.yaml';

/** The sample file (SAMPLE_BLOCKS, lines 1 to 13: network on 5-9, image on 10, redis on 11, fleet on 12) with `overrides`, and one Redis lane that runs. */
function envYaml(overrides: Record<string, string> = {}): string {
  const body = Object.values({ ...SAMPLE_BLOCKS, ...overrides }).filter(Boolean);
  return `${body.join('\n')}\nlanes:\n  image: { queues: [image], stage: baseline }\n`;
}

function problems(text: string): string[] {
  try {
    parseEnvironment(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n');
  }
  throw new Error('expected the file to be rejected');
}

describe('a NUL byte', () => {
  const message =
    'a NUL byte (0x00): YAML allows none anywhere in a file, comments included, and one means the file is corrupted; restore it from version control or retype the line';

  it('is refused in a comment, where the YAML parser itself would let it pass, at its line and column', () => {
    const text = envYaml({ app: 'app: propertyfeed # the feed \0importer' });
    expect(problems(text)).toEqual([`environments/staging.yaml:1:30 ${message}`]);
  });

  it('is refused in a value and in a key, once per line', () => {
    const text = envYaml({ image: 'image: { repository: app\0\0 }', fleet: 'fle\0et: { maxTasks: 8 }' });
    expect(problems(text)).toEqual([`environments/staging.yaml:10:25 ${message}`, `environments/staging.yaml:12:4 ${message}`]);
  });
});

