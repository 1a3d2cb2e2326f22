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

const cloud = (prefix: string) =>
  `state: { backend: cloud, organization: acme, workspacePrefix: ${JSON.stringify(prefix)} }\nfleet: { maxTasks: 8 }`;

describe('state.workspacePrefix', () => {
  it.each(['propertyfeed staging', 'propertyfeed/staging', 'feeds.staging'])(
    '%j is refused: Terraform Cloud names a workspace with letters, digits, - and _',
    (prefix) => {
      expect(problems(envYaml({ fleet: cloud(prefix) }))).toEqual([
        `environments/staging.yaml:12:63 state.workspacePrefix: ${JSON.stringify(prefix)} must be letters, digits, "-" and "_" only: Terraform Cloud names a workspace with no other characters (no spaces or slashes), and each stack's workspace is <workspacePrefix>-<stack role>`,
      ]);
    },
  );

  it('takes letters, digits, dashes and underscores', () => {
    const env = parseEnvironment(envYaml({ fleet: cloud('Feeds_staging-2') }), FILE);
    expect(env.state).toMatchObject({ backend: 'cloud', workspacePrefix: 'Feeds_staging-2' });
  });
});

describe('network.privateSubnetIds', () => {
  it('refuses a subnet listed twice, at the repeat', () => {
    const network = SAMPLE_BLOCKS.network.replace(
      '[subnet-0123456789abcdef0]',
      '[subnet-0123456789abcdef0, subnet-0123456789abcdef1, subnet-0123456789abcdef0]',
    );
    expect(problems(envYaml({ network }))).toEqual([
      "environments/staging.yaml:7:74 network.privateSubnetIds[2]: subnet-0123456789abcdef0 is listed twice (first as privateSubnetIds[0]); list each subnet once: a repeated id is usually a copy where another Availability Zone's subnet was meant",
    ]);
  });
});

describe('the Redis key prefix', () => {
  it.each([
    ['a newline', 'app_database_\\n'],
    ['a tab', 'app\\tdatabase_'],
    ['an escape character', 'app_\\e[0m'],
    ['a NUL, written as an escape', 'app_\\0'],
  ])('refuses %s in redis.keyPrefix', (_, escaped) => {
    const redis = `redis: { host: queues.cache.internal, keyPrefix: "${escaped}", retryAfter: 180 }`;
    const value = JSON.stringify(parseDocumentValue(escaped));
    expect(problems(envYaml({ redis }))).toEqual([
      `environments/staging.yaml:11:50 redis.keyPrefix: ${value} must not contain a newline, a tab or another control character: a key prefix is printable text`,
    ]);
  });

  it("refuses one in the workers' REDIS_PREFIX when redis.keyPrefix leaves the prefix to it", () => {
    const redis = 'redis: { host: queues.cache.internal, retryAfter: 180 }\nparameters: { plain: { REDIS_PREFIX: "app\\r\\n" } }';
    expect(problems(envYaml({ redis }))).toEqual([
      'environments/staging.yaml:12:38 parameters.plain.REDIS_PREFIX: "app\\r\\n" must not contain a newline, a tab or another control character: a key prefix is printable text',
    ]);
  });

  it('takes any printable prefix, spaces and braces included, and an empty one', () => {
    for (const prefix of ['my-app-database-', 'Straße {x}: ', '']) {
      const redis = `redis: { host: queues.cache.internal, keyPrefix: ${JSON.stringify(prefix)}, retryAfter: 180 }`;
      expect(parseEnvironment(envYaml({ redis }), FILE).redisKeyPrefix).toBe(prefix);
    }
  });
});

describe("cdktf's mark for a reference", () => {
  // Every other string reaches Terraform as a literal (libs/stacks literals); this one cdktf itself would replace.
  it('is refused in any value: synth would put a resource attribute in its place', () => {
    const image = 'image: { repository: app }\nparameters: { plain: { MAIL_FROM_NAME: "Feeds ${TfToken[TOKEN.1]}" }, secure: [] }';
    expect(problems(envYaml({ image }))).toEqual([
      'environments/staging.yaml:11:40 parameters.plain.MAIL_FROM_NAME: "Feeds ${TfToken[TOKEN.1]}" holds "${TfToken[", the mark cdktf gives a reference between resources: synth would put a resource\'s attribute in its place; remove it',
    ]);
  });
});

describe("a lane's command", () => {
  it('refuses "${" or "%{" before a single brace, a placeholder\'s: written "${{" it is a literal', () => {
    const lanes = (arg: string) => `  image: { queues: [image], stage: baseline, command: [sh, -c, ${JSON.stringify(arg)}] }\n`;
    const text = (arg: string) => envYaml().replace(/lanes:\n[\s\S]*$/, `lanes:\n${lanes(arg)}`);
    expect(problems(text('echo ${queues}'))).toEqual([
      'environments/staging.yaml:15:64 lanes.image.command[2]: "echo ${queues}" has "${": a single brace in a command opens a placeholder ({queues}), so this reads as "$" before one; write "${{" for a literal "${", or leave out the "$"',
    ]);
    expect(problems(text('%{lane}'))).toEqual([
      'environments/staging.yaml:15:64 lanes.image.command[2]: "%{lane}" has "%{": a single brace in a command opens a placeholder ({queues}), so this reads as "%" before one; write "%{{" for a literal "%{", or leave out the "%"',
    ]);
    expect(parseEnvironment(text('echo ${{HOME}} {queues}'), FILE).lanes[0].command).toEqual(['sh', '-c', 'echo ${{HOME}} {queues}']);
  });
});

describe('an email subscription', () => {
  // The fuzzing of staging.yaml found a right-to-left override accepted in an address SNS cannot deliver to.
  it.each(['oncall\u202e@example.com', 'on call@example.com', 'oncall@exa\u0001mple.com'])('refuses %j', (address) => {
    const alarms = `alarms: { subscriptions: [{ protocol: email, endpoint: ${JSON.stringify(address)} }] }`;
    expect(problems(envYaml({ alarms }))).toEqual([
      `environments/staging.yaml:14:56 alarms.subscriptions[0].endpoint: ${JSON.stringify(address)} must be an email address like oncall@example.com`,
    ]);
  });
});

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

/** The string a double-quoted YAML scalar with these escapes holds. */
function parseDocumentValue(escaped: string): string {
  return JSON.parse(`"${escaped.replace('\\e', '\\u001b').replace('\\0', '\\u0000')}"`) as string;
}
