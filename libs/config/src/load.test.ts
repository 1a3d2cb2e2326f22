import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parseDocument } from 'yaml';
import { ConfigError, environmentJsonSchema, loadEnvironment, parseEnvironment, redisHost } from './index';
import { AWS_REGIONS } from './schema';
import { KMS_KEY_ARN } from './kms';
import { decodeUtf8 } from './load';
import { SAMPLE_BLOCKS } from './testing';

const FILE = 'environments/staging.yaml';

/** The sample file's blocks from app to image: lines 1 to 10 of every file here. */
const SAMPLE_HEAD = Object.fromEntries(
  ['app', 'environment', 'region', 'accounts', 'network', 'image'].map((block) => [block, SAMPLE_BLOCKS[block]]),
);

/** A valid environment file; `lanes` is appended verbatim at line 15. */
function envYaml(lanes: string, overrides: Record<string, string> = {}): string {
  const top: Record<string, string> = {
    ...SAMPLE_HEAD,
    fleet: 'fleet: { maxTasks: 4 }',
    guardrails: 'guardrails: { maxTasksBeforeOwned: 2 }',
    scheduler: 'scheduler: { onHosts: true }',
    // A running Redis lane needs the Redis host and the queue connection's key prefix.
    parameters: 'parameters: { plain: { DB_HOST: db, REDIS_HOST: cache, REDIS_PREFIX: app_database_ }, secure: [DB_PASSWORD] }',
    ...overrides,
  };
  return `${Object.values(top).join('\n')}\n${lanes ? `lanes:\n${lanes}` : 'lanes: {}'}`;
}

function problems(text: string, file = FILE): string[] {
  try {
    parseEnvironment(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n');
  }
  throw new Error('expected the file to be rejected');
}

describe('a valid file', () => {
  it('applies every default', () => {
    const env = parseEnvironment(
      envYaml(`  image:
    queues: [image]
`),
      FILE,
    );
    expect(env.state).toEqual({ backend: 'local', directory: '.' });
    expect(env.network.redis.port).toBe(6379);
    expect(env.network.aurora.port).toBe(3306);
    expect(env.logs.retentionDays).toBe(365);
    expect(env.guardrails).toEqual({ maxTasksBeforeOwned: 2, oneLaneAtATime: false });
    const [lane] = env.lanes;
    expect(lane).toMatchObject({
      name: 'image',
      broker: 'redis',
      connection: 'redis',
      stage: 'off',
      tasks: { baseline: 1, min: 0, max: 1 },
      cpu: 512,
      memory: 1024,
      workers: 1,
      job: { timeout: 60, tries: 3, maxJobs: 500, maxTime: 3600, memory: 128, sleep: 3, backoff: [0] },
      capacity: [{ provider: 'FARGATE', base: 0, weight: 1 }],
      scaleInProtection: false,
      stopTimeout: 120,
      priority: 10,
    });
    expect(lane.sqs).toBeUndefined();
  });

  it('applies the runtime and deployment defaults', () => {
    const env = parseEnvironment(
      envYaml(`  image:
    queues: [image]
`),
      FILE,
    );
    expect(env.runtime).toEqual({ appRoot: '/var/www/html', user: 'www-data', enableEcsExec: false });
    expect(env.lanes[0].deployment).toEqual({ minimumHealthyPercent: 100, maximumPercent: 200 });
    const withStorage = parseEnvironment(envYaml('', { runtime: 'runtime: { storage: { bucket: acme-media } }' }), FILE);
    expect(withStorage.runtime.storage).toEqual({ bucket: 'acme-media', prefix: '' });
  });

  it('keeps a deliberate zero rather than replacing it with a default', () => {
    const env = parseEnvironment(
      envYaml(`  bulk:
    queues: [bulk]
    tasks: { baseline: 0, min: 0, max: 1 }
    job: { maxJobs: 0 }
`),
      FILE,
    );
    expect(env.lanes[0].tasks.baseline).toBe(0);
    expect(env.lanes[0].job.maxJobs).toBe(0);
  });

  it('orders lanes by priority, then file order', () => {
    const env = parseEnvironment(
      envYaml(`  a:
    queues: [a]
  b:
    queues: [b]
    priority: 1
  c:
    queues: [c]
`),
      FILE,
    );
    expect(env.lanes.map((l) => l.name)).toEqual(['b', 'a', 'c']);
  });

  it('resolves spot, sqs defaults and state defaults', () => {
    const env = parseEnvironment(
      envYaml(
        `  feeds:
    broker: sqs
    queues: [propertyfeed-staging-feeds]
    spot: true
`,
        {
          state: 'state: { backend: s3, bucket: acme-state, kmsKeyId: alias/acme-state }',
        },
      ),
      FILE,
    );
    expect(env.lanes[0].capacity).toEqual([{ provider: 'FARGATE_SPOT', base: 0, weight: 1 }]);
    expect(env.lanes[0].sqs).toEqual({
      visibilityTimeout: 300,
      maxReceiveCount: 5,
      messageRetentionSeconds: 345600,
    });
    expect(env.lanes[0].connection).toBe('sqs');
    expect(env.state).toEqual({
      backend: 's3',
      bucket: 'acme-state',
      region: 'eu-west-2',
      keyPrefix: 'propertyfeed/staging',
      kmsKeyId: 'alias/acme-state',
    });
  });

  it('refuses an s3 backend that names no KMS key, at the state key', () => {
    expect(problems(envYaml('', { state: 'state: { backend: s3, bucket: acme-state }' }))).toEqual([
      expect.stringMatching(
        /^environments\/staging\.yaml:\d+:\d+ state\.kmsKeyId: is required with the s3 backend: state holds every attribute of every resource, so name the KMS key/,
      ),
    ]);
  });
});

describe('file-level errors', () => {
  it('names a missing file and the environments that exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'envs-'));
    writeFileSync(join(dir, 'staging.yaml'), 'x: 1');
    writeFileSync(join(dir, 'production.yaml'), 'x: 1');
    expect(() => loadEnvironment(join(dir, 'qa.yaml'), 'environments/qa.yaml')).toThrow(
      'environments/qa.yaml file not found; environments here: production, staging',
    );
  });

  it('names a duplicate key and where it first appears', () => {
    expect(
      problems(
        envYaml('', {
          region: `region: eu-west-2
region: eu-west-1`,
        }),
      ),
    ).toEqual(['environments/staging.yaml:4:1 the key "region" appears twice in the same mapping (first at line 3); keep one']);
    const lanes = `  image:
    queues: [image]
    cpu: 512
    cpu: 1024
`;
    expect(problems(envYaml(lanes))).toEqual([
      'environments/staging.yaml:19:5 the key "cpu" appears twice in the same mapping (first at line 18); keep one',
    ]);
  });

  it("reports a tab in the indentation once per line, without the parser's cascade", () => {
    const lanes = `  image:
\tqueues: [image]
\tstage: off
`;
    expect(problems(envYaml(lanes))).toEqual([
      'environments/staging.yaml:17:1 a tab indents this line; YAML indents with spaces only, so replace the tab with spaces',
      'environments/staging.yaml:18:1 a tab indents this line; YAML indents with spaces only, so replace the tab with spaces',
    ]);
  });

  it('says a quoted number is a string, not a number', () => {
    expect(
      problems(
        envYaml(
          `  image:
    queues: [image]
    cpu: "256"
`,
          { fleet: 'fleet: { maxTasks: "4" }' },
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:11:20 fleet.maxTasks: "4" is a string, not a number; write it without quotes: 4',
      'environments/staging.yaml:18:10 lanes.image.cpu: "256" is a string, not a number; write it without quotes: 256',
    ]);
  });

  it('refuses a region AWS does not have, suggesting the nearest one', () => {
    expect(problems(envYaml('', { region: 'region: eu-wset-2' }))[0]).toMatch(
      /^environments\/staging\.yaml:3:9 region: "eu-wset-2" is not valid \(did you mean "eu-west-2"\?\); expected one of: af-south-1, /,
    );
    expect(problems(envYaml('', { region: 'region: xx-fake-9' }))[0]).toMatch(/region: "xx-fake-9" is not valid; expected one of: /);
  });

  it('refuses image references a registry would not take', () => {
    const image = (i: string) => problems(envYaml('', { image: `image: ${i}` }));
    expect(image('{ repository: "not a repository" }')).toEqual([
      'environments/staging.yaml:10:22 image.repository: "not a repository" must be an image repository (no tag), like 111111111111.dkr.ecr.eu-west-2.amazonaws.com/propertyfeed',
    ]);
    expect(image('{ repository: app, tag: "v1 ; rm -rf /" }')).toEqual([
      'environments/staging.yaml:10:32 image.tag: "v1 ; rm -rf /" must be an image tag (letters, digits, _ . -, at most 128) or a sha256: digest',
    ]);
    expect(image(`{ repository: app, tag: "${'a'.repeat(129)}" }`)[0]).toContain('image.tag:');
    expect(() =>
      parseEnvironment(
        envYaml('', { image: `image: { repository: 1.dkr.ecr.eu-west-2.amazonaws.com/app, tag: "sha256:${'a'.repeat(64)}" }` }),
        FILE,
      ),
    ).not.toThrow();
  });

  it('refuses S3 bucket names S3 would reject', () => {
    const state = (bucket: string) => problems(envYaml('', { state: `state: { backend: s3, bucket: "${bucket}" }` }));
    expect(state('Bad Bucket!!')).toEqual([
      'environments/staging.yaml:15:31 state.bucket: "Bad Bucket!!" must be an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens, like acme-terraform-state',
    ]);
    for (const bucket of ['a..b', '192.168.1.1', 'xn--bucket', 'bucket-s3alias']) {
      expect(state(bucket)).toEqual([
        `environments/staging.yaml:15:31 state.bucket: must be a name S3 allows: no two dots in a row, not an IP address, none of the reserved prefixes (xn--, sthree-) and suffixes (-s3alias, --ol-s3)`,
      ]);
    }
  });

  it('refuses secret-looking names as plain parameters, uids past 65535 and a base on two capacity providers', () => {
    expect(
      problems(envYaml('', { parameters: 'parameters: { plain: { MAIL_PASSWORD: x, AWS_SECRET_ACCESS_KEY: y, AWS_ACCESS_KEY_ID: z } }' })),
    ).toEqual([
      'environments/staging.yaml:14:39 parameters.plain.MAIL_PASSWORD: looks like a secret (its name says PASSWORD), and plain parameters are String parameters anyone who reads the environment can see; list MAIL_PASSWORD under parameters.secure and set its value out of band',
      'environments/staging.yaml:14:65 parameters.plain.AWS_SECRET_ACCESS_KEY: looks like a secret (its name says SECRET), and plain parameters are String parameters anyone who reads the environment can see; list AWS_SECRET_ACCESS_KEY under parameters.secure and set its value out of band',
    ]);
    expect(problems(envYaml('', { runtime: 'runtime: { user: "65536:1000" }' }))).toEqual([
      'environments/staging.yaml:15:18 runtime.user: "65536:1000" has an id above 65535, which container images and Fargate do not map; use an id from 1 to 65535',
    ]);
    const lane = `  image:
    queues: [image]
    capacity: [{ provider: FARGATE, base: 1 }, { provider: FARGATE_SPOT, base: 2 }]
`;
    expect(problems(envYaml(lane))).toEqual([
      'environments/staging.yaml:18:80 lanes.image.capacity[1].base: FARGATE and FARGATE_SPOT both set base; ECS allows a base on one capacity provider only, so keep it on one and set the others to 0',
    ]);
  });

  it('hands a paused lane to the operator, and refuses pausing a lane that is off', () => {
    const env = parseEnvironment(
      envYaml(`  image:
    queues: [image]
    stage: scaling
    paused: true
`),
      FILE,
    );
    expect(env.lanes[0]).toMatchObject({ sizedBy: 'operator', controllerMeasured: true });
    expect(env.reservedTasks).toBe(1);
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    paused: true
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:13 lanes.image.paused: a lane at stage off runs no tasks, so there is nothing to pause; remove paused or move the lane to baseline',
    ]);
  });

  it('needs someone subscribed to the alarms where one lane changes at a time', () => {
    expect(problems(envYaml('', { guardrails: 'guardrails: { maxTasksBeforeOwned: 2, oneLaneAtATime: true }' }))).toEqual([
      'environments/staging.yaml:12:55 alarms.subscriptions: lists no one, while guardrails.oneLaneAtATime marks this an environment people are paged for: every alarm would notify an SNS topic nobody reads; subscribe the on-call (protocol email, https, sqs or lambda)',
    ]);
    const subscribed = {
      guardrails: 'guardrails: { oneLaneAtATime: true }',
      alarms: 'alarms: { subscriptions: [{ protocol: email, endpoint: oncall@example.com }] }',
    };
    expect(() => parseEnvironment(envYaml('', subscribed), FILE)).not.toThrow();
  });

  it('rejects an empty file', () => {
    expect(problems('')).toEqual([
      'environments/staging.yaml:1:1 the file is empty; expected a mapping with app, environment, region, allowedAccountIds, network, image, fleet and lanes',
    ]);
    expect(
      problems(`# only a comment
`),
    ).toHaveLength(1);
  });

  it('reports malformed YAML with its position', () => {
    expect(
      problems(`app: x
lanes: [a
`),
    ).toEqual([
      'environments/staging.yaml:3:1 invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('reports a duplicated key at the top of the file', () => {
    expect(
      problems(`app: x
app: y
`),
    ).toEqual(['environments/staging.yaml:2:1 the key "app" appears twice in the same mapping (first at line 1); keep one']);
  });

  it('rejects a file whose top level is not a mapping', () => {
    expect(
      problems(`- a
- b
`),
    ).toEqual(['environments/staging.yaml:1:1 expected a mapping, got a list']);
  });

  it('requires the environment name to match the file name', () => {
    expect(problems(envYaml('', { environment: 'environment: prod' }))).toEqual([
      'environments/staging.yaml:2:14 environment: "prod" does not match the file name; a file staging.yaml must say environment: staging',
    ]);
  });

  it('lists every problem, not just the first', () => {
    const text = envYaml(
      `  image:
    queues: [image]
    stage: scalng
    cpu: 300
`,
      {
        region: 'region: moon-1',
      },
    );
    expect(problems(text)).toEqual([
      `environments/staging.yaml:3:9 region: "moon-1" is not valid; expected one of: ${AWS_REGIONS.join(', ')}`,
      'environments/staging.yaml:18:12 lanes.image.stage: "scalng" is not valid (did you mean "scaling"?); expected one of: off, baseline, scaling, owned',
      'environments/staging.yaml:19:10 lanes.image.cpu: 300 is not valid; expected one of: 256, 512, 1024, 2048, 4096, 8192, 16384',
    ]);
  });
});

describe('schema errors', () => {
  it('reports an unknown key with a suggestion', () => {
    expect(
      problems(
        envYaml(`  image:
    queus: [image]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:16:3 lanes.image.queues: is required (a list of queues in priority order), or groups, each with its own queues',
      'environments/staging.yaml:17:5 lanes.image.queus: unknown key; did you mean "queues"?',
    ]);
  });

  it('lists the valid keys when nothing is close', () => {
    expect(problems(envYaml('', { fleet: 'fleet: { maxTasks: 4, zebra: 1 }' }))).toEqual([
      'environments/staging.yaml:11:23 fleet.zebra: unknown key; valid keys: maxTasks',
    ]);
  });

  it('suggests keys of the chosen state backend', () => {
    expect(problems(envYaml('', { state: 'state: { backend: s3, bucket: bkt, bukcet: c }' }))).toEqual([
      'environments/staging.yaml:15:36 state.bukcet: unknown key; did you mean "bucket"?',
    ]);
  });

  it('reports an unknown state backend', () => {
    expect(problems(envYaml('', { state: 'state: { backend: gcs }' }))).toEqual([
      'environments/staging.yaml:15:19 state.backend: "gcs" is not valid; expected one of: local, s3, cloud',
    ]);
  });

  it('reports wrong types', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: image
    workers: two
`),
      ),
    ).toEqual([
      'environments/staging.yaml:17:13 lanes.image.queues: expected a list, got "image"',
      'environments/staging.yaml:18:14 lanes.image.workers: expected a number, got "two"',
    ]);
  });

  it('reports out-of-range numbers', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    workers: 0
    stopTimeout: 300
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:14 lanes.image.workers: must be at least 1, got 0',
      'environments/staging.yaml:19:18 lanes.image.stopTimeout: must be at most 120, got 300',
    ]);
  });

  it('reports a missing required key at the key that owns it', () => {
    expect(problems(envYaml('', { fleet: 'fleet: {}' }))).toEqual([
      'environments/staging.yaml:11:1 fleet.maxTasks: is required (a number)',
    ]);
  });

  it('takes security-group and subnet ids of 8 or 17 hex digits only, as EC2 issues them', () => {
    const network = (sg: string, subnet: string) => ({
      network: `network:
  vpcId: vpc-0123456789abcdef0
  privateSubnetIds: [${subnet}]
  redis: { securityGroupId: ${sg} }
  aurora: { securityGroupId: sg-0123456789abcdef2 }`,
    });
    expect(problems(envYaml('', network('sg-0123456789', 'subnet-0123456789abc')))).toEqual([
      'environments/staging.yaml:7:22 network.privateSubnetIds[0]: "subnet-0123456789abc" must be a subnet id like subnet-0123456789abcdef0',
      'environments/staging.yaml:8:29 network.redis.securityGroupId: "sg-0123456789" must be a security-group id like sg-0123456789abcdef0',
    ]);
    expect(() => parseEnvironment(envYaml('', network('sg-01234567', 'subnet-01234567')), FILE)).not.toThrow();
  });

  it('rejects malformed ids', () => {
    expect(
      problems(
        envYaml('', {
          network: `network:
  vpcId: vpc-1
  privateSubnetIds: []
  redis: { securityGroupId: sg-xyz }
  aurora: { securityGroupId: sg-0123456789abcdef2 }`,
        }),
      ),
    ).toEqual([
      'environments/staging.yaml:6:10 network.vpcId: "vpc-1" must be a VPC id like vpc-0123456789abcdef0',
      'environments/staging.yaml:7:21 network.privateSubnetIds: must have at least 1 item, got 0',
      'environments/staging.yaml:8:29 network.redis.securityGroupId: "sg-xyz" must be a security-group id like sg-0123456789abcdef0',
    ]);
  });

  it('rejects invalid lane names', () => {
    expect(
      problems(
        envYaml(`  Image_Lane:
    queues: [image]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:16:3 lanes.Image_Lane: "Image_Lane" must be lower-case letters, digits and dashes, starting with a letter (a lane name)',
    ]);
  });

  it('rejects a parameter name with illegal characters', () => {
    expect(problems(envYaml('', { parameters: 'parameters: { plain: { "db-host": x } }' }))).toEqual([
      'environments/staging.yaml:14:24 parameters.plain.db-host: "db-host" must be an environment-variable name: letters, digits and underscores, not starting with a digit',
    ]);
  });
});

describe('a value naming another environment', () => {
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-lanes-foreign-'));
    writeFileSync(join(dir, 'staging.yaml'), envYaml(''));
    return dir;
  };
  const qa = (plain: string) =>
    envYaml('', {
      environment: 'environment: qa',
      parameters: `parameters:
  plain:
${plain}`,
    });

  it('is refused at its line, naming both environments, when qa.yaml points at staging', () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'qa.yaml'),
      qa(`    AWS_BUCKET: propertyfeed-media-staging
    REDIS_HOST: cache`),
    );
    expect(() => loadEnvironment(join(dir, 'qa.yaml'), 'environments/qa.yaml')).toThrow(
      'environments/qa.yaml:16:17 parameters.plain.AWS_BUCKET: "propertyfeed-media-staging" names environment staging, not qa: a value left over from a copy would point qa at staging\'s resources; use qa\'s own, or end the line with "# shared" if both use it on purpose',
    );
  });

  it('is accepted when its line says it is shared, and a name inside another word is no name', () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'qa.yaml'),
      qa(`    AWS_BUCKET: propertyfeed-media-staging # shared
    NOTE: prestaging2`),
    );
    expect(loadEnvironment(join(dir, 'qa.yaml'), 'environments/qa.yaml').environment).toBe('qa');
  });
});

describe('one round of errors', () => {
  it('reports the schema errors and the rules broken by the lanes that parsed, together', () => {
    const text = envYaml(
      [
        '  image:',
        '    queues: [image, default]',
        '  bulk:',
        '    queues: [bulk]',
        '    cpu: "256"',
        '  sync:',
        '    queues: [sync]',
        '    stage: owned',
        '    tasks: { max: 5 }',
        '',
      ].join('\n'),
      {
        region: `region: eu-west-2
regoin: eu-west-1`,
      },
    );
    expect(problems(text)).toEqual([
      'environments/staging.yaml:4:1 regoin: unknown key; did you mean "region"?',
      'environments/staging.yaml:18:21 lanes.image.queues[1]: the "default" queue stays on the web hosts; a lane may not consume it',
      'environments/staging.yaml:21:10 lanes.bulk.cpu: "256" is a string, not a number; write it without quotes: 256',
      'environments/staging.yaml:25:19 lanes.sync.tasks.max: 5 exceeds fleet.maxTasks (4)',
    ]);
  });

  it("reports a lane's unknown key with the rules the rest of the lane breaks, but none about the key it was probably meant to be", () => {
    // memroy: 4096 was meant as memory: with the default 1024 standing in, job.memory 2048 would not fit;
    // that is not said. The guardrail and the warm window do not read memory, and are.
    const text = envYaml(`  image:
    queues: [image]
    stage: scaling
    tasks: { max: 3 }
    memroy: 4096
    job: { memory: 2048 }
    warm:
      - { at: "0 2 * * *", tasks: 4 }
`);
    expect(problems(text)).toEqual([
      'environments/staging.yaml:19:19 lanes.image.tasks.max: 3 exceeds guardrails.maxTasksBeforeOwned (2) while the lane is at stage "scaling"; keep max at 2 or below until the lane is "owned"',
      'environments/staging.yaml:20:5 lanes.image.memroy: unknown key; did you mean "memory"?',
      'environments/staging.yaml:23:35 lanes.image.warm[0].tasks: 4 is above tasks.max (3)',
    ]);
    // Spelt right, the same lane's memory rule speaks too: the key, not the rule, was what hid it.
    expect(problems(text.replace('memroy: 4096', 'memory: 1024'))).toContainEqual(
      expect.stringMatching(/^environments\/staging\.yaml:21:20 lanes\.image\.job\.memory: job\.memory 2048 MB does not fit/),
    );
  });

  it('runs no rule while a setting outside the lanes is refused: its default could make a rule report a mistake the file does not have', () => {
    const text = envYaml(
      `  image:
    queues: [image]
    stage: scaling
    tasks: { max: 3 }
`,
      {
        guardrails: 'guardrails: { maxTasksBeforeOwned: "3" }',
      },
    );
    expect(problems(text)).toEqual([
      'environments/staging.yaml:12:36 guardrails.maxTasksBeforeOwned: "3" is a string, not a number; write it without quotes: 3',
    ]);
  });
});

describe('cross-field rules', () => {
  it('keeps the default queue on the hosts', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image, default]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:17:21 lanes.image.queues[1]: the "default" queue stays on the web hosts; a lane may not consume it',
    ]);
  });

  it('gives a queue to one lane only', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
  bulk:
    queues: [bulk, image]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:19:20 lanes.bulk.queues[1]: queue "image" is already consumed by lane "image" (lanes.image.queues[0]); a queue belongs to one lane',
    ]);
  });

  it('rejects an invalid Fargate CPU/memory pair', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    cpu: 4096
    memory: 4096
`),
      ),
    ).toEqual([
      'environments/staging.yaml:19:13 lanes.image.memory: 4096 MiB is not a Fargate size for cpu 4096; valid: 8192–30720 in steps of 1024',
    ]);
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    cpu: 256
    memory: 4096
`),
      ),
    ).toEqual(['environments/staging.yaml:19:13 lanes.image.memory: 4096 MiB is not a Fargate size for cpu 256; valid: 512, 1024, 2048']);
  });

  it('fits worker processes into the task memory', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    workers: 3
    job: { memory: 512 }
`),
      ),
    ).toEqual([
      "environments/staging.yaml:19:20 lanes.image.job.memory: job.memory 512 MB does not fit under each container's hard limit (the task's 1024 MiB over 3 processes): PHP's memory_limit is 301 MiB (the container's 341 MiB less 40 MiB the PHP processes hold outside their heap), and a job needs room above --memory to grow in before memory_limit stops it: set job.memory to 240 or below, or raise memory or run fewer processes per task",
    ]);
  });

  it('keeps --memory under PHP memory_limit under the hard limit, with the protection parent process counted', () => {
    // 1024 MiB in one container: memory_limit 984, so --memory up to 787; the entry point's parent takes 16 MiB more.
    expect(() =>
      parseEnvironment(
        envYaml(`  image:
    queues: [image]
    job: { memory: 787 }
`),
        FILE,
      ),
    ).not.toThrow();
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    scaleInProtection: true
    job: { memory: 787 }
`),
      ),
    ).toEqual([
      "environments/staging.yaml:19:20 lanes.image.job.memory: job.memory 787 MB does not fit under each container's hard limit (the task's 1024 MiB over 1 processes): PHP's memory_limit is 968 MiB (the container's 1024 MiB less 56 MiB the PHP processes hold outside their heap), and a job needs room above --memory to grow in before memory_limit stops it: set job.memory to 774 or below, or raise memory or run fewer processes per task",
    ]);
    const [lane] = parseEnvironment(
      envYaml(`  image:
    queues: [image]
    scaleInProtection: true
`),
      FILE,
    ).lanes;
    expect(lane.groups[0].phpMemoryLimit).toBe(968);
  });

  it('says when a container is too small for PHP at all', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    workers: 32
    job: { memory: 32 }
`),
      ),
    ).toEqual([
      "environments/staging.yaml:19:20 lanes.image.job.memory: job.memory 32 MB does not fit under each container's hard limit (the task's 1024 MiB over 32 processes): the container's 32 MiB leaves nothing for PHP's heap once the PHP processes take their 40 MiB, or raise memory or run fewer processes per task",
    ]);
  });

  it("names an SQS lane's one queue as the stacks create it, which its workers consume", () => {
    expect(
      problems(
        envYaml(`  feeds:
    broker: sqs
    queues: [feeds]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:5 lanes.feeds.queues: an SQS lane has one queue, propertyfeed-staging-feeds (<app>-<env>-<lane>), which the stacks create and its workers must name: set queues: [propertyfeed-staging-feeds] and dispatch the jobs to that queue',
    ]);
  });

  it("refuses a log retention AWS offers but the test command's checkov refuses, saying why", () => {
    expect(problems(envYaml('', { logs: 'logs: { retentionDays: 30 }' }))).toEqual([
      "environments/staging.yaml:15:24 logs.retentionDays: 30 days is a retention CloudWatch Logs offers, but checkov's CKV_AWS_338 (log groups keep logs at least a year), which the test command runs on every stack, refuses it; valid: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ]);
  });

  it('refuses what AWS or the workers could not use, each at its line (found by fuzzing)', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    capacity: [{ provider: FARGATE, weight: 1 }, { provider: FARGATE, weight: 2 }]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:62 lanes.image.capacity[1].provider: FARGATE is listed twice; ECS takes each capacity provider once in a strategy',
    ]);
    expect(problems(envYaml('', { parameters: 'parameters: { plain: { APP_NAME: "a\\0b" } }' }))).toEqual([
      'environments/staging.yaml:14:34 parameters.plain.APP_NAME: "a\\u0000b" must not contain a NUL byte',
    ]);
    expect(problems(envYaml('', { runtime: 'runtime: { appRoot: /var/../.. }' }))).toEqual([
      'environments/staging.yaml:15:21 runtime.appRoot: "/var/../.." must be an absolute path without a trailing slash or a "." or ".." part, like /var/www/html',
    ]);
    expect(problems(envYaml('', { parameters: 'parameters: { plain: { REDIS_PORT: 6380 } }' }))).toEqual([
      'environments/staging.yaml:14:36 parameters.plain.REDIS_PORT: 6380 is not network.redis.port (6379): the workers would connect to one port while the security groups open the other; make them the same',
    ]);
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    command: [php, artisan, "", queue:work]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:29 lanes.image.command[2]: "" must not be empty: an empty argument reaches the program as one',
    ]);
    expect(problems(envYaml('', { parameters: `parameters: { secure: [${'A'.repeat(10000)}] }` }))[0]).toMatch(
      /^environments\/staging\.yaml:14:24 parameters\.secure\[0\]: must be at most 255 characters long, got "A{80}"… \(10000 characters\)$/,
    );
  });

  it('takes a multi-Region KMS key for the state, and refuses a bare key id the s3 backend would', () => {
    const state = (key: string) => ({ state: `state: { backend: s3, bucket: acme-state, kmsKeyId: "${key}" }` });
    expect(() =>
      parseEnvironment(envYaml('', state('arn:aws:kms:eu-west-2:111111111111:key/mrk-1234abcd1234abcd1234abcd1234abcd')), FILE),
    ).not.toThrow();
    expect(problems(envYaml('', state('1234abcd-12ab-34cd-56ef-1234567890ab')))).toEqual([
      'environments/staging.yaml:15:53 state.kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" must be a KMS key ARN (a multi-Region mrk- key too), alias/<name> or an alias ARN; the s3 backend refuses a bare key id, so give its ARN',
    ]);
  });

  it('holds a key ARN to the shape the constructs hold the environment key to (KMS_KEY_ARN), and takes an alias for the state only', () => {
    const state = (key: string) => ({ state: `state: { backend: s3, bucket: acme-state, kmsKeyId: "${key}" }` });
    // A key id KMS never issues: the workers and scaling constructs once took it, the file did not.
    expect(problems(envYaml('', state('arn:aws:kms:eu-west-2:111111111111:key/not-a-key-id')))).toEqual([
      'environments/staging.yaml:15:53 state.kmsKeyId: "arn:aws:kms:eu-west-2:111111111111:key/not-a-key-id" must be a KMS key ARN (a multi-Region mrk- key too), alias/<name> or an alias ARN; the s3 backend refuses a bare key id, so give its ARN',
    ]);
    expect(KMS_KEY_ARN.test('arn:aws:kms:eu-west-2:111111111111:key/not-a-key-id')).toBe(false);
    // The state backend takes an alias; the environment's own key, which log groups and IAM grants use, never is one.
    for (const alias of ['alias/acme-state', 'arn:aws:kms:eu-west-2:111111111111:alias/acme-state']) {
      expect(parseEnvironment(envYaml('', state(alias)), FILE).state).toMatchObject({ kmsKeyId: alias });
      expect(KMS_KEY_ARN.test(alias)).toBe(false);
    }
  });

  it('keeps a lane within the fleet cap', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    stage: owned
    tasks: { max: 5 }
`),
      ),
    ).toEqual(['environments/staging.yaml:19:19 lanes.image.tasks.max: 5 exceeds fleet.maxTasks (4)']);
  });

  it('takes warm windows in cron, naming the field a bad expression gets wrong, at its line', () => {
    // The lane with one warm window.
    const warm = (window: string) => `  image:
    queues: [image]
    stage: scaling
    tasks: { max: 2 }
    warm:
${window}
`;
    const lane = parseEnvironment(envYaml(warm('      - { at: "0 2 * * *", tasks: 2 }')), FILE).lanes.find((l) => l.name === 'image')!;
    expect(lane.warm).toEqual([{ at: '0 2 * * *', tasks: 2, minutes: 30 }]);
    expect(problems(envYaml(warm('      - { at: "0 25 * * *", tasks: 1, minutes: 10 }')))).toEqual([
      'environments/staging.yaml:21:15 lanes.image.warm[0].at: hour "25" is outside 0-23',
    ]);
    expect(problems(envYaml(warm('      - { at: "0 2 * * *", tasks: 3 }')))).toEqual([
      'environments/staging.yaml:21:35 lanes.image.warm[0].tasks: 3 is above tasks.max (2)',
    ]);
    expect(problems(envYaml(warm('      - { at: "0 2 * *", tasks: 1 }')))[0]).toMatch(
      /^environments\/staging.yaml:21:15 lanes.image.warm\[0\].at: has 4 fields; a cron expression has five fields, minute hour day-of-month month day-of-week \(UTC\)/,
    );
    // The controller sizes SQS lanes too, so they take warm windows like Redis lanes.
    const sqsWarm = `  feeds:
    broker: sqs
    queues: [propertyfeed-staging-feeds]
    stage: scaling
    tasks: { max: 2 }
    warm:
      - { at: "0 2 * * *", tasks: 2 }
`;
    expect(parseEnvironment(envYaml(sqsWarm), FILE).lanes.find((l) => l.name === 'feeds')!.warm).toEqual([
      { at: '0 2 * * *', tasks: 2, minutes: 30 },
    ]);
  });

  it('keeps max at the guardrail until the lane is owned', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    stage: scaling
    tasks: { max: 3 }
`),
      ),
    ).toEqual([
      'environments/staging.yaml:19:19 lanes.image.tasks.max: 3 exceeds guardrails.maxTasksBeforeOwned (2) while the lane is at stage "scaling"; keep max at 2 or below until the lane is "owned"',
    ]);
    expect(() =>
      parseEnvironment(
        envYaml(`  image:
    queues: [image]
    stage: owned
    tasks: { max: 3 }
`),
        FILE,
      ),
    ).not.toThrow();
    // A rollback from owned to off or baseline is one change: there tasks.max is unused.
    for (const stage of ['off', 'baseline']) {
      expect(() =>
        parseEnvironment(
          envYaml(`  image:
    queues: [image]
    stage: ${stage}
    tasks: { baseline: 1, max: 3 }
`),
          FILE,
        ),
      ).not.toThrow();
    }
  });

  it('keeps fixed and paused tasks under the fleet cap', () => {
    const lanes = [
      `  a:
    queues: [a]
    stage: baseline
    tasks: { baseline: 2, max: 2 }`,
      `  b:
    queues: [b]
    stage: owned
    paused: true
    tasks: { max: 3 }`,
      // Controller-managed lanes, Redis or SQS, are capped at runtime, so they do not count here.
      `  c:
    queues: [c]
    stage: owned
    tasks: { max: 4 }`,
      `  d:
    broker: sqs
    queues: [propertyfeed-staging-d]
    stage: owned
    tasks: { max: 4 }`,
    ].join('\n');
    expect(problems(`${envYaml(lanes)}\n`)).toEqual([
      'environments/staging.yaml:11:20 fleet.maxTasks: 4 is below the 5 tasks that fixed and paused lanes may run (a 2 (baseline) + b 3 (max, paused)); raise fleet.maxTasks or lower those lanes',
    ]);
  });

  it('orders tasks.min ≤ tasks.max and tasks.baseline ≤ tasks.max', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    tasks: { baseline: 2, min: 2, max: 1 }
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:24 lanes.image.tasks.baseline: 2 is above tasks.max (1)',
      'environments/staging.yaml:18:32 lanes.image.tasks.min: 2 is above tasks.max (1)',
    ]);
  });

  it('keeps the job timeout below the stop timeout unless scale-in protection is on', () => {
    const lane = `  image:
    queues: [image]
    stopTimeout: 90
    job: { timeout: 100 }
`;
    expect(problems(envYaml(lane))).toEqual([
      'environments/staging.yaml:19:21 lanes.image.job.timeout: 100 s is not below stopTimeout (90 s), so a stopping task would kill a running job; lower job.timeout or set scaleInProtection: true',
    ]);
    expect(() =>
      parseEnvironment(
        envYaml(`${lane}    scaleInProtection: true
`),
        FILE,
      ),
    ).not.toThrow();
  });

  it('keeps the SQS visibility timeout at or above the job timeout', () => {
    expect(
      problems(
        envYaml(
          `  feeds:
    broker: sqs
    queues: [propertyfeed-staging-feeds]
    job: { timeout: 100 }
    sqs: { visibilityTimeout: 60 }
`,
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:20:31 lanes.feeds.sqs.visibilityTimeout: SQS visibility timeout 60 s is below job.timeout 100 s, so a running job would be delivered twice; set sqs.visibilityTimeout to at least 100',
    ]);
  });

  it('allows sqs settings only on SQS lanes', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    sqs: { maxReceiveCount: 3 }
`),
      ),
    ).toEqual(['environments/staging.yaml:18:5 lanes.image.sqs: applies only to broker "sqs"; remove it or set broker: sqs']);
  });

  it('rejects Spot on arm64 and spot set twice', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    spot: true
    architecture: arm64
`),
      ),
    ).toEqual([
      'environments/staging.yaml:19:19 lanes.image.architecture: Fargate Spot does not run arm64 tasks; use x86_64 or turn Spot off',
    ]);
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    spot: true
    capacity: [{ provider: FARGATE_SPOT }]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:11 lanes.image.spot: set either spot or capacity, not both (capacity already says which providers to use)',
    ]);
  });

  it("refuses a Spot lane's job.timeout past the 120 s a Spot interruption gives, unless allowLongJobsOnSpot says so", () => {
    const longJobs = { redis: 'redis: { retryAfter: 900 }' };
    const lane = `  bulk:
    queues: [bulk]
    spot: true
    scaleInProtection: true
    job: { timeout: 600 }
`;
    expect(problems(envYaml(lane, longJobs))).toEqual([
      'environments/staging.yaml:21:21 lanes.bulk.job.timeout: 600 s is past the 120 s a Fargate Spot interruption gives before the task is stopped, and scale-in protection does not hold off a Spot reclaim, so a reclaimed task would kill a running job; lower job.timeout to 120 or below, run the lane on FARGATE, or set allowLongJobsOnSpot: true if its jobs may be killed and run again',
    ]);
    expect(parseEnvironment(envYaml(`${lane}    allowLongJobsOnSpot: true\n`, longJobs), FILE).lanes[0]).toMatchObject({
      allowLongJobsOnSpot: true,
      capacity: [{ provider: 'FARGATE_SPOT', base: 0, weight: 1 }],
    });
    // 120 s fits in the notice (stopTimeout 120 needs protection for it, which a scale-in respects).
    expect(() => parseEnvironment(envYaml(lane.replace('600', '120'), longJobs), FILE)).not.toThrow();
  });

  it("refuses a group's own job.timeout past Spot's notice when any capacity provider is FARGATE_SPOT", () => {
    expect(
      problems(
        envYaml(
          `  sync:
    capacity: [{ provider: FARGATE, base: 1 }, { provider: FARGATE_SPOT, weight: 3 }]
    scaleInProtection: true
    groups:
      - { name: fast, queues: [sync-urgent], processes: 1 }
      - { name: slow, queues: [sync], processes: 1, job: { timeout: 180 } }
`,
          { redis: 'redis: { retryAfter: 900 }' },
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:22:69 lanes.sync.groups[1].job.timeout: group "slow": 180 s is past the 120 s a Fargate Spot interruption gives before the task is stopped, and scale-in protection does not hold off a Spot reclaim, so a reclaimed task would kill a running job; lower job.timeout to 120 or below, run the lane on FARGATE, or set allowLongJobsOnSpot: true if its jobs may be killed and run again',
    ]);
  });

  it('refuses allowLongJobsOnSpot on a lane that is not on Spot', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    allowLongJobsOnSpot: true
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:26 lanes.image.allowLongJobsOnSpot: applies only to a lane on Fargate Spot (spot: true, or a FARGATE_SPOT capacity provider); remove it',
    ]);
  });

  it('rejects an unknown capacity provider', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    capacity: [{ provider: EC2 }]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:28 lanes.image.capacity[0].provider: "EC2" is not valid; expected one of: FARGATE, FARGATE_SPOT',
    ]);
  });

  it('rejects a scheduler configured twice', () => {
    expect(problems(envYaml('', { scheduler: 'scheduler: { onHosts: true, service: { enabled: true } }' }))).toEqual([
      'environments/staging.yaml:13:49 scheduler.service.enabled: the scheduler would run twice (on the web hosts and as a service); set scheduler.onHosts: false when moving it to ECS',
    ]);
  });

  it('rejects an invalid Fargate CPU/memory pair for the scheduler service', () => {
    expect(
      problems(envYaml('', { scheduler: 'scheduler: { onHosts: false, service: { enabled: true, cpu: 256, memory: 4096 } }' })),
    ).toEqual([
      'environments/staging.yaml:13:74 scheduler.service.memory: 4096 MiB is not a Fargate size for cpu 256; valid: 512, 1024, 2048',
    ]);
  });

  it('keeps logs for a retention CloudWatch Logs offers', () => {
    expect(problems(envYaml('', { logs: 'logs: { retentionDays: 100 }' }))).toEqual([
      'environments/staging.yaml:15:24 logs.retentionDays: 100 is not a retention CloudWatch Logs offers; valid: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
    ]);
  });

  it('reserves the lane names the scheduler and ECS Exec use', () => {
    expect(
      problems(
        envYaml(`  scheduler:
    queues: [schedule]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:16:3 lanes.scheduler: "scheduler" is reserved for the scheduler service propertyfeed-scheduler and its log group; give the lane another name',
    ]);
    expect(
      problems(
        envYaml(`  ecs-exec:
    queues: [exec]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:16:3 lanes.ecs-exec: "ecs-exec" is reserved for the ECS Exec session log group /ecs/propertyfeed-staging/ecs-exec; give the lane another name',
    ]);
  });

  it('leaves a deployment room to replace tasks', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    deployment: { maximumPercent: 100 }
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:35 lanes.image.deployment.maximumPercent: 100 leaves no room for a deployment while minimumHealthyPercent is 100: ECS could neither start a new task nor stop an old one; raise maximumPercent or lower minimumHealthyPercent',
    ]);
    expect(() =>
      parseEnvironment(
        envYaml(`  image:
    queues: [image]
    deployment: { minimumHealthyPercent: 0, maximumPercent: 100 }
`),
        FILE,
      ),
    ).not.toThrow();
  });

  it('runs the containers as a non-root user', () => {
    expect(problems(envYaml('', { runtime: 'runtime: { user: "0:0" }' }))).toEqual([
      'environments/staging.yaml:15:18 runtime.user: "0:0" is root; the containers must run as a non-root user such as www-data',
    ]);
    expect(problems(envYaml('', { runtime: 'runtime: { user: root }' }))).toHaveLength(1);
    expect(() => parseEnvironment(envYaml('', { runtime: 'runtime: { user: "1000:1000" }' }), FILE)).not.toThrow();
  });

  it('rejects a storage prefix that does not end in a slash', () => {
    expect(problems(envYaml('', { runtime: 'runtime: { storage: { bucket: acme-media, prefix: jobs } }' }))).toEqual([
      'environments/staging.yaml:15:51 runtime.storage.prefix: "jobs" must be empty (the whole bucket) or a key prefix ending in "/", like jobs/',
    ]);
  });

  it('rejects a secret that is also plain', () => {
    expect(problems(envYaml('', { parameters: 'parameters: { plain: { DB_PASSWORD: x }, secure: [DB_PASSWORD] }' }))).toEqual([
      'environments/staging.yaml:14:51 parameters.secure[0]: "DB_PASSWORD" is also a plain parameter; a secret must not be stored in plain text, remove it from parameters.plain',
    ]);
  });

  it('rejects app names AWS reserves for ids and parameter paths', () => {
    expect(problems(envYaml('', { app: 'app: sg-shop' }))).toEqual([
      'environments/staging.yaml:1:6 app: "sg-shop" would name the security groups sg-shop-staging-workers…, and EC2 reserves names starting with "sg-" for group ids; choose another app name',
    ]);
    expect(problems(envYaml('', { app: 'app: ssmapp' }))).toEqual([
      'environments/staging.yaml:1:6 app: "ssmapp" would put the parameters under /ssmapp/, and SSM reserves names beginning with "aws" or "ssm"; choose another app name',
    ]);
  });

  it('rejects Redis and Aurora on one security group and port', () => {
    const network = `network:
  vpcId: vpc-0123456789abcdef0
  privateSubnetIds: [subnet-0123456789abcdef0]
  redis: { securityGroupId: sg-0123456789abcdef1 }
  aurora: { securityGroupId: sg-0123456789abcdef1, port: 6379 }`;
    expect(problems(envYaml('', { network }))).toEqual([
      'environments/staging.yaml:9:58 network.aurora.port: 6379 is also the Redis port on the same security group (sg-0123456789abcdef1), so the two access rules would be duplicates, which EC2 rejects',
    ]);
  });

  it('rejects an empty or repeated HTTPS egress list', () => {
    const base = `${SAMPLE_BLOCKS.network}
`;
    expect(problems(envYaml('', { network: `${base}  httpsEgress: {}` }))).toEqual([
      'environments/staging.yaml:10:3 network.httpsEgress: lists no prefixListIds and no securityGroupIds, so workers could not pull images or read parameters; list the VPC endpoints, or remove httpsEgress to allow 443 to anywhere',
    ]);
    expect(
      problems(envYaml('', { network: `${base}  httpsEgress: { prefixListIds: [pl-0123456789abcdef0, pl-0123456789abcdef0] }` })),
    ).toEqual([
      'environments/staging.yaml:10:56 network.httpsEgress.prefixListIds[1]: pl-0123456789abcdef0 is listed twice; EC2 rejects duplicate rules',
    ]);
  });

  it('rejects plain values SSM cannot store', () => {
    expect(problems(envYaml('', { parameters: `parameters: { plain: { EMPTY: "", BIG: "${'x'.repeat(4097)}" } }` }))).toEqual([
      'environments/staging.yaml:14:31 parameters.plain.EMPTY: SSM cannot store an empty value; give it a value or leave it out',
      'environments/staging.yaml:14:40 parameters.plain.BIG: the value is 4097 bytes; a standard SSM parameter holds at most 4096',
    ]);
  });

  it('keeps IAM role names within 64 characters', () => {
    const file = 'environments/production-eu-west.yaml';
    const text = envYaml(
      `  feeds-and-images-lane:
    queues: [feeds]
`,
      {
        app: 'app: propertyfeed-imports',
        environment: 'environment: production-eu-west',
      },
    );
    expect(problems(text, file)).toEqual([
      "environments/production-eu-west.yaml:16:3 lanes.feeds-and-images-lane: the lane's IAM role propertyfeed-imports-production-eu-west-feeds-and-images-lane-execution would be 71 characters and IAM allows 64; shorten the lane, app or environment name",
    ]);
  });

  it('limits the length of a lane name', () => {
    expect(
      problems(
        envYaml(`  a-very-long-lane-name-for-feeds:
    queues: [feeds]
`),
      ),
    ).toEqual([
      'environments/staging.yaml:16:3 lanes.a-very-long-lane-name-for-feeds: must be at most 24 characters long, got "a-very-long-lane-name-for-feeds"',
    ]);
  });
});

describe('alarms', () => {
  it('defaults to no subscriptions and fixed lane thresholds', () => {
    const env = parseEnvironment(
      envYaml(`  image:
    queues: [image]
`),
      FILE,
    );
    expect(env.alarms).toEqual({ subscriptions: [] });
    // backlog and oldestJobSeconds default from the lane's size and job timeout (libs/observability).
    expect(env.lanes[0].alarms).toEqual({
      backlogMinutes: 15,
      restarts: 3,
      restartWindowMinutes: 15,
      connectionErrors: 3,
      failedJobsPerMinute: 5,
    });
  });

  it('accepts each subscription protocol and lane overrides', () => {
    const alarms = [
      'alarms:',
      '  subscriptions:',
      '    - { protocol: email, endpoint: oncall@example.com }',
      '    - { protocol: https, endpoint: "https://hooks.example.com/alarms?team=queues" }',
      '    - { protocol: sqs, endpoint: "arn:aws:sqs:eu-west-2:111111111111:alarms" }',
      '    - { protocol: lambda, endpoint: "arn:aws:lambda:eu-west-2:111111111111:function:notify" }',
    ].join('\n');
    const env = parseEnvironment(
      envYaml(
        `  image:
    queues: [image]
    alarms: { backlog: 400, oldestJobSeconds: 1800, restarts: 0 }
`,
        { alarms },
      ),
      FILE,
    );
    expect(env.alarms.subscriptions.map((s) => s.protocol)).toEqual(['email', 'https', 'sqs', 'lambda']);
    expect(env.lanes[0].alarms).toMatchObject({ backlog: 400, oldestJobSeconds: 1800, restarts: 0, backlogMinutes: 15 });
  });

  it('rejects negative and zero thresholds', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    alarms: { backlog: -5, restarts: -1, failedJobsPerMinute: 0 }
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:24 lanes.image.alarms.backlog: must be at least 1, got -5',
      'environments/staging.yaml:18:38 lanes.image.alarms.restarts: must be at least 0, got -1',
      'environments/staging.yaml:18:63 lanes.image.alarms.failedJobsPerMinute: must be at least 1, got 0',
    ]);
  });

  it('rejects an unknown lane alarm setting with a suggestion', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    alarms: { backlogMinute: 5 }
`),
      ),
    ).toEqual(['environments/staging.yaml:18:15 lanes.image.alarms.backlogMinute: unknown key; did you mean "backlogMinutes"?']);
  });

  it('rejects an unknown subscription protocol', () => {
    const alarms = 'alarms: { subscriptions: [{ protocol: slack, endpoint: "https://hooks.slack.com/x" }] }';
    expect(problems(envYaml('', { alarms }))).toEqual([
      'environments/staging.yaml:15:39 alarms.subscriptions[0].protocol: "slack" is not valid; expected one of: email, https, sqs, lambda',
    ]);
  });

  it('checks each endpoint against its protocol', () => {
    const alarms = [
      'alarms:',
      '  subscriptions:',
      '    - { protocol: email, endpoint: oncall }',
      '    - { protocol: https, endpoint: "http://hooks.example.com" }',
      '    - { protocol: sqs, endpoint: "arn:aws:sqs:eu-west-2:111111111111:alarms.fifo" }',
      '    - { protocol: lambda, endpoint: notify }',
    ].join('\n');
    expect(problems(envYaml('', { alarms }))).toEqual([
      'environments/staging.yaml:17:36 alarms.subscriptions[0].endpoint: "oncall" must be an email address like oncall@example.com',
      'environments/staging.yaml:18:36 alarms.subscriptions[1].endpoint: "http://hooks.example.com" must be an https:// URL like https://hooks.example.com/alarms',
      'environments/staging.yaml:19:34 alarms.subscriptions[2].endpoint: "arn:aws:sqs:eu-west-2:111111111111:alarms.fifo" must be the ARN of a standard (not FIFO) SQS queue like arn:aws:sqs:eu-west-2:111111111111:alarms',
      'environments/staging.yaml:20:37 alarms.subscriptions[3].endpoint: "notify" must be a Lambda function ARN like arn:aws:lambda:eu-west-2:111111111111:function:notify',
    ]);
  });

  it('rejects a subscription listed twice', () => {
    const alarms = [
      'alarms:',
      '  subscriptions:',
      '    - { protocol: email, endpoint: oncall@example.com }',
      '    - { protocol: email, endpoint: oncall@example.com }',
    ].join('\n');
    expect(problems(envYaml('', { alarms }))).toEqual([
      'environments/staging.yaml:18:36 alarms.subscriptions[1].endpoint: email oncall@example.com is already subscribed (alarms.subscriptions[0]); SNS keeps one subscription per endpoint, so remove the duplicate',
    ]);
  });
});

describe('redis, controller and SQS scaling settings', () => {
  it('applies their defaults', () => {
    const env = parseEnvironment(
      envYaml(`  feeds:
    broker: sqs
    queues: [propertyfeed-staging-feeds]
`),
      FILE,
    );
    expect(env.redis).toEqual({ tls: true, cluster: false, database: 0, retryAfter: 90, probeOtherPrefixes: true });
    expect(env.controller).toEqual({ wakeInvokerRoleArns: [] });
  });

  it("takes the Redis host from redis.host, else the workers' REDIS_HOST", () => {
    const plain = parseEnvironment(envYaml('', { parameters: 'parameters: { plain: { REDIS_HOST: cache.internal } }' }), FILE);
    expect(redisHost(plain)).toBe('cache.internal');
    const both = parseEnvironment(
      envYaml('', { parameters: 'parameters: { plain: { REDIS_HOST: cache.internal } }', redis: 'redis: { host: queues.internal }' }),
      FILE,
    );
    expect(redisHost(both)).toBe('queues.internal');
    expect(redisHost(parseEnvironment(envYaml('', { parameters: '' }), FILE))).toBeUndefined();
  });

  it('reads the Redis AUTH token from a secure parameter only', () => {
    expect(problems(envYaml('', { redis: 'redis: { authParameter: REDIS_PASSWORD }' }))).toEqual([
      'environments/staging.yaml:15:25 redis.authParameter: "REDIS_PASSWORD" is not in parameters.secure (DB_PASSWORD); the controller reads the Redis AUTH token from that SecureString parameter, so list it there',
    ]);
    expect(
      problems(
        envYaml('', {
          parameters: 'parameters: { plain: { REDIS_PASSWORD: x }, secure: [DB_PASSWORD] }',
          redis: 'redis: { authParameter: REDIS_PASSWORD }',
        }),
      ),
    ).toEqual([
      'environments/staging.yaml:15:25 redis.authParameter: "REDIS_PASSWORD" is a plain parameter; the Redis AUTH token must be a secret: move it to parameters.secure',
    ]);
    expect(() =>
      parseEnvironment(
        envYaml('', {
          parameters: 'parameters: { secure: [DB_PASSWORD, REDIS_PASSWORD] }',
          redis: 'redis: { authParameter: REDIS_PASSWORD }',
        }),
        FILE,
      ),
    ).not.toThrow();
  });

  it('keeps cluster mode on database 0', () => {
    expect(problems(envYaml('', { redis: 'redis: { cluster: true, database: 2 }' }))).toEqual([
      'environments/staging.yaml:15:35 redis.database: 2 must be 0 in cluster mode (Redis Cluster has one database)',
    ]);
  });

  const running = `  image:
    queues: [image]
    stage: baseline
`;
  const noPrefix = 'parameters: { plain: { DB_HOST: db, REDIS_HOST: cache }, secure: [DB_PASSWORD] }';
  const print = `print it with php artisan tinker --execute="echo config('database.redis.options.prefix');" and set redis.keyPrefix (or REDIS_PREFIX under parameters.plain, which the workers then use too)`;

  it('needs the key prefix once a Redis lane runs, and offers both values Laravel may have derived, never guessing', () => {
    expect(problems(envYaml(running, { parameters: noPrefix }))).toEqual([
      `environments/staging.yaml:18:12 redis.keyPrefix: Redis lane image runs, so the backlog controller needs the queue connection's key prefix; with REDIS_PREFIX unset Laravel derives it from APP_NAME "propertyfeed": "propertyfeed_database_" in applications created from laravel/laravel before v12.1.0, "propertyfeed-database-" since (a wrong prefix reads as empty queues); ${print}`,
    ]);
    const named = 'parameters: { plain: { DB_HOST: db, REDIS_HOST: cache, APP_NAME: "Acme Web" }, secure: [DB_PASSWORD] }';
    expect(problems(envYaml(running, { parameters: named, redis: 'redis: { tls: true }' }))[0]).toMatch(
      /^environments\/staging\.yaml:15:8 redis\.keyPrefix: .*APP_NAME "Acme Web": "acme_web_database_" in applications created from laravel\/laravel before v12\.1\.0, "acme-web-database-" since/,
    );
    // An off lane reads nothing: no prefix needed yet.
    expect(() =>
      parseEnvironment(
        envYaml(
          `  image:
    queues: [image]
`,
          { parameters: noPrefix },
        ),
        FILE,
      ),
    ).not.toThrow();
  });

  it('refuses to derive the prefix from an APP_NAME that Str::slug transliterates', () => {
    const named = 'parameters: { plain: { DB_HOST: db, REDIS_HOST: cache, APP_NAME: "Straße" }, secure: [DB_PASSWORD] }';
    expect(problems(envYaml(running, { parameters: named }))).toEqual([
      `environments/staging.yaml:18:12 redis.keyPrefix: Redis lane image runs, so the backlog controller needs the queue connection's key prefix, and APP_NAME "Straße" has characters Laravel's Str::slug transliterates, so it cannot be derived here; ${print}`,
    ]);
  });

  it("takes an explicit prefix (empty included), and refuses one that differs from the workers' REDIS_PREFIX", () => {
    expect(parseEnvironment(envYaml(running, { parameters: noPrefix, redis: 'redis: { keyPrefix: "" }' }), FILE).redisKeyPrefix).toBe('');
    expect(parseEnvironment(envYaml(running), FILE).redisKeyPrefix).toBe('app_database_');
    expect(problems(envYaml(running, { redis: 'redis: { keyPrefix: app-database- }' }))).toEqual([
      'environments/staging.yaml:15:21 redis.keyPrefix: "app-database-" differs from parameters.plain.REDIS_PREFIX ("app_database_"), the prefix the workers use, so the controller would read other keys than the workers take jobs from; remove redis.keyPrefix or make them equal',
    ]);
  });

  it('needs the Redis host once a Redis lane runs', () => {
    expect(problems(envYaml(running, { parameters: 'parameters: { plain: { REDIS_PREFIX: p_ } }' }))).toEqual([
      'environments/staging.yaml:18:12 redis.host: Redis lane image runs, so the backlog controller reads its queues from Redis, but no Redis host is configured; set redis.host, or REDIS_HOST under parameters.plain',
    ]);
  });

  it("keeps every Redis lane's job timeout below retry_after, unless reservations never expire", () => {
    const lane = `  image:
    queues: [image]
    stage: baseline
    job: { timeout: 90 }
`;
    expect(problems(envYaml(lane))).toEqual([
      "environments/staging.yaml:19:21 lanes.image.job.timeout: 90 s is not below redis.retryAfter (90 s), so Laravel would hand a job that is still running to a second worker; lower job.timeout or raise redis.retryAfter (the connection's retry_after) above it",
    ]);
    expect(() => parseEnvironment(envYaml(lane, { redis: 'redis: { retryAfter: null }' }), FILE)).not.toThrow();
    expect(() => parseEnvironment(envYaml(lane, { redis: 'redis: { retryAfter: 120 }' }), FILE)).not.toThrow();
  });

  it('keeps the workers logging to stderr, where the log filters read', () => {
    const withLog = (plain: string) => `parameters: { plain: { REDIS_HOST: cache, REDIS_PREFIX: p_, ${plain} } }`;
    expect(problems(envYaml(running, { parameters: withLog('LOG_CHANNEL: daily') }))).toEqual([
      'environments/staging.yaml:14:74 parameters.plain.LOG_CHANNEL: "daily" writes the workers\' log to a file inside the container, which nothing ships to CloudWatch, so the Redis, Aurora and failed-job alarms would never see a line; use stderr (the workers\' default when LOG_CHANNEL is unset), or a stack of stderr',
    ]);
    expect(problems(envYaml(running, { parameters: withLog('LOG_CHANNEL: stack') }))[0]).toContain(
      'parameters.plain.LOG_CHANNEL: "stack", whose LOG_STACK defaults to "single", writes the workers\' log to a file',
    );
    expect(() =>
      parseEnvironment(envYaml(running, { parameters: withLog('LOG_CHANNEL: stack, LOG_STACK: "stderr"') }), FILE),
    ).not.toThrow();
    expect(() => parseEnvironment(envYaml(running, { parameters: withLog('LOG_CHANNEL: stderr') }), FILE)).not.toThrow();
  });

  it('takes IAM role ARNs, once each, as wake-up invokers', () => {
    const role = 'arn:aws:iam::111111111111:role/propertyfeed-web';
    expect(problems(envYaml('', { controller: `controller: { wakeInvokerRoleArns: [${role}, ${role}] }` }))).toEqual([
      `environments/staging.yaml:15:86 controller.wakeInvokerRoleArns[1]: ${role} is listed twice`,
    ]);
    expect(problems(envYaml('', { controller: 'controller: { wakeInvokerRoleArns: [propertyfeed-web] }' }))).toEqual([
      'environments/staging.yaml:15:37 controller.wakeInvokerRoleArns[0]: "propertyfeed-web" must be an IAM role ARN like arn:aws:iam::111111111111:role/propertyfeed-web',
    ]);
  });

  it('refuses the oldest-message steps App Auto Scaling used to take: the controller sizes SQS lanes', () => {
    const lane = `  feeds:
    broker: sqs
    queues: [propertyfeed-staging-feeds]
    sqs: { oldestMessageSteps: [{ ageSeconds: 600, addTasks: 1 }] }
`;
    expect(problems(envYaml(lane))).toEqual([
      'environments/staging.yaml:19:12 lanes.feeds.sqs.oldestMessageSteps: unknown key; valid keys: visibilityTimeout, maxReceiveCount, messageRetentionSeconds',
    ]);
  });
});

describe('process groups', () => {
  const grouped = (groups: string, extra = '') =>
    envYaml(`  sync:
    cpu: 512
    memory: 1024
    job: { timeout: 60, memory: 160 }
    groups:
${groups}${extra}`);
  const URGENT = `      - { name: urgent, queues: [sync-urgent], processes: 1, job: { timeout: 30, tries: 5 } }
`;
  const MAIN = `      - { name: main, queues: [sync-urgent, sync], processes: 3 }
`;

  it('give the lane every queue they name once, their processes, and each group the lane job under its own', () => {
    const [lane] = parseEnvironment(grouped(URGENT + MAIN), FILE).lanes;
    expect(lane.queues).toEqual(['sync-urgent', 'sync']);
    expect(lane.workers).toBe(4);
    expect(lane.groups.map((g) => [g.name, g.queues, g.processes, g.job.timeout, g.job.tries, g.job.memory])).toEqual([
      ['urgent', ['sync-urgent'], 1, 30, 5, 160],
      ['main', ['sync-urgent', 'sync'], 3, 60, 3, 160],
    ]);
    expect(lane.longestJobTimeout).toBe(60);
  });

  it('leave a lane without them one group, worker, of its workers on its queues', () => {
    const [lane] = parseEnvironment(
      envYaml(`  image:
    queues: [image, bulk]
    workers: 2
`),
      FILE,
    ).lanes;
    // 1024 MiB over 2 containers, less 40 MiB of PHP outside its heap.
    expect(lane.groups).toEqual([{ name: 'worker', queues: ['image', 'bulk'], processes: 2, job: lane.job, phpMemoryLimit: 472 }]);
  });

  it('refuse queues or workers beside them, and a lane with neither', () => {
    expect(
      problems(
        envYaml(
          `  sync:
    queues: [sync]
    groups:
` + MAIN,
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:17:5 lanes.sync.queues: give the queues either here or per group, not both: with groups the lane consumes every queue its groups name',
    ]);
    expect(
      problems(
        envYaml(
          `  sync:
    workers: 2
    groups:
` + MAIN,
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:17:14 lanes.sync.workers: applies to a lane without groups; with groups each group sets its processes',
    ]);
    expect(
      problems(
        envYaml(`  sync:
    stage: off
`),
      ),
    ).toEqual([
      'environments/staging.yaml:16:3 lanes.sync.queues: is required (a list of queues in priority order), or groups, each with its own queues',
    ]);
  });

  it('refuse a queue twice in one chain, default, a queue of another lane, and a name used twice', () => {
    expect(
      problems(
        grouped(`      - { name: main, queues: [sync, sync] }
`),
      ),
    ).toEqual(['environments/staging.yaml:21:38 lanes.sync.groups[0].queues[1]: queue "sync" is listed twice in group "main"']);
    expect(
      problems(
        grouped(`      - { name: main, queues: [sync, default] }
`),
      ),
    ).toEqual([
      'environments/staging.yaml:21:38 lanes.sync.groups[0].queues[1]: the "default" queue stays on the web hosts; a lane may not consume it',
    ]);
    expect(
      problems(
        grouped(
          MAIN,
          `  image:
    queues: [image, sync]
`,
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:23:21 lanes.image.queues[1]: queue "sync" is already consumed by lane "sync" (lanes.sync.groups[0].queues[1]); a queue belongs to one lane',
    ]);
    expect(
      problems(
        grouped(
          `      - { name: main, queues: [sync] }
`.repeat(2),
        ),
      ),
    ).toEqual([
      'environments/staging.yaml:22:17 lanes.sync.groups[1].name: group "main" is named twice in this lane; each names its own containers',
    ]);
  });

  it("fit every group's --memory into its container's share of the task", () => {
    expect(
      problems(
        grouped(
          URGENT +
            `      - { name: main, queues: [sync], processes: 3, job: { memory: 300 } }
`,
        ),
      ),
    ).toEqual([
      "environments/staging.yaml:22:68 lanes.sync.groups[1].job.memory: group \"main\": job.memory 300 MB does not fit under each container's hard limit (the task's 1024 MiB over 4 processes): PHP's memory_limit is 216 MiB (the container's 256 MiB less 40 MiB the PHP processes hold outside their heap), and a job needs room above --memory to grow in before memory_limit stops it: set job.memory to 172 or below, or raise memory or run fewer processes per task",
    ]);
  });

  it('cover every group’s job timeout with stopTimeout, naming the group whose own timeout is too long', () => {
    expect(
      problems(
        grouped(`      - { name: slow, queues: [sync], job: { timeout: 300 } }
`),
      ),
    ).toEqual([
      'environments/staging.yaml:21:55 lanes.sync.groups[0].job.timeout: group "slow": 300 s is not below stopTimeout (120 s), so a stopping task would kill a running job; lower job.timeout or set scaleInProtection: true',
    ]);
  });
});

describe('bytes that are not UTF-8', () => {
  const decode = (bytes: number[]) => () => decodeUtf8(Buffer.from(bytes), FILE);
  const text = (s: string) => [...Buffer.from(s)];

  it('are refused at their line and column, not read as U+FFFD into a value', () => {
    const bytes = [
      ...text(`app: propertyfeed
parameters:
  plain:
  APP_NAME: "Caf`),
      0xe9,
      ...text(`"
`),
    ];
    expect(decode(bytes)).toThrow(
      new ConfigError([
        {
          file: FILE,
          line: 4,
          column: 17,
          path: '',
          message: 'byte 0xe9 is not UTF-8 (the file was saved in another encoding, or holds binary data); save it as UTF-8',
        },
      ]),
    );
    expect(() => decodeUtf8(Buffer.from(bytes), FILE)).toThrow(/^environments\/staging\.yaml:4:17 byte 0xe9 is not UTF-8/);
  });

  it('count columns in characters, and refuse overlong forms and surrogates as TextDecoder does', () => {
    expect(decode([...text('a: "é'), 0xff])).toThrow(/:1:6 byte 0xff/);
    expect(decode([...text('a: '), 0xc0, 0x80])).toThrow(/:1:4 byte 0xc0/);
    expect(decode([...text('a: '), 0xed, 0xa0, 0x80])).toThrow(/:1:4 byte 0xed/);
    expect(decode([...text('a: '), 0xe2, 0x82])).toThrow(/:1:4 byte 0xe2/);
  });

  it('are refused by loadEnvironment before any parsing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'queue-lanes-utf8-'));
    writeFileSync(join(dir, 'staging.yaml'), Buffer.from([...text('app: caf'), 0xe9, ...text('\n')]));
    expect(() => loadEnvironment(join(dir, 'staging.yaml'), FILE)).toThrow(/^environments\/staging\.yaml:1:9 byte 0xe9 is not UTF-8/);
  });

  it('leave UTF-8 alone, a replacement character written on purpose included', () => {
    expect(
      decode(
        text(`a: "Café \uFFFD 🙂"
`),
      )(),
    ).toBe(`a: "Café \uFFFD 🙂"
`);
  });
});

describe('bounds before any work', () => {
  it('refuses a file over 256 KiB at once', () => {
    const started = Date.now();
    const lanes = Array.from({ length: 40000 }, (_, i) => `  l${i}: { queues: [q${i}] }`).join('\n');
    expect(problems(envYaml(lanes))).toEqual([
      expect.stringMatching(/^environments\/staging\.yaml the file is \d+ bytes; an environment file holds at most 262144/),
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses more than 100 lanes at the lanes key, and more than 50 queues in a lane', () => {
    const lanes = Array.from({ length: 101 }, (_, i) => `  l${i}: { queues: [q${i}] }`).join('\n');
    expect(problems(envYaml(lanes))).toEqual([
      'environments/staging.yaml:15:1 lanes: 101 lanes; an environment has at most 100 (each is an ECS service, and the backlog controller measures every Redis lane in one tick)',
    ]);
    const queues = Array.from({ length: 51 }, (_, i) => `q${i}`).join(', ');
    expect(problems(envYaml(`  image: { queues: [${queues}] }`))).toEqual([
      expect.stringMatching(/^environments\/staging\.yaml:16:\d+ lanes\.image\.queues: must have at most 50 items, got 51$/),
    ]);
  });
});

describe('inputs a fuzzer found accepted or unlocated', () => {
  it.each([
    [
      'state.kmsKeyId',
      'state: { backend: s3, bucket: acme-state, kmsKeyId: "not a key!!" }',
      'must be a KMS key ARN (a multi-Region mrk- key too), alias/<name> or an alias ARN; the s3 backend refuses a bare key id, so give its ARN',
    ],
    [
      'state.hostname',
      'state: { backend: cloud, organization: acme, hostname: "http://evil example" }',
      'must be a host name (no scheme, port or path), e.g. app.terraform.io',
    ],
    ['state.directory', 'state: { backend: local, directory: ../../../../tmp }', 'must stay inside the repository: no ".." in the path'],
    [
      'state.dynamodbTable',
      'state: { backend: s3, bucket: acme-state, dynamodbTable: "a b" }',
      'must be a DynamoDB table name (3-255 letters, digits, "_", "." and "-")',
    ],
  ])('%s', (key, state, message) => {
    const yaml = `  image:
    queues: [image]
`;
    const found = problems(envYaml(yaml, { state }));
    expect(found).toEqual([expect.stringContaining(`${key}: `)]);
    expect(found[0]).toMatch(/^environments\/staging\.yaml:\d+:\d+ /);
    expect(found[0]).toContain(message);
  });

  it('a connection name with a newline, and a backlogPerTask the controller would refuse', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    connection: "red\\nis"
`),
      ),
    ).toEqual([
      'environments/staging.yaml:18:17 lanes.image.connection: "red\\nis" must be a Laravel connection name from config/queue.php (letters, digits, "_" and "-")',
    ]);
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    backlogPerTask: 1000000000000
`),
      ),
    ).toEqual(['environments/staging.yaml:18:21 lanes.image.backlogPerTask: must be at most 100000, got 1000000000000']);
  });

  it('an alarm threshold past what the alarms accept, at its line (not a construct error naming no file)', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: [image]
    alarms: { backlog: 1e15 }
`),
      ),
    ).toEqual(['environments/staging.yaml:18:24 lanes.image.alarms.backlog: must be at most 1000000000, got 1000000000000000']);
  });

  it('an alias without its anchor, and an alias bomb, at the alias', () => {
    expect(
      problems(
        envYaml(`  image:
    queues: *nope
`),
      ),
    ).toEqual([
      'environments/staging.yaml:17:13 the alias *nope names no anchor (&nope) set before it; define the anchor first, or write the value out',
    ]);
    const bomb = [
      'x0: &a0 [q, q, q, q, q, q, q, q, q, q]',
      ...Array.from({ length: 6 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
    ].join('\n');
    const [problem] = problems(
      `${bomb}\n${envYaml(`  image:
    queues: [image]
`)}`,
    );
    expect(problem).toMatch(
      /^environments\/staging\.yaml:2:\d+ aliases would expand this file too far \(.*\); write the values out instead of nesting aliases$/,
    );
  });
});

describe('the JSON Schema editors read', () => {
  it('describes every key', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node === null || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const [key, value] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        const at = path ? `${path}.${key}` : key;
        if (value.description === undefined && value.$ref === undefined) undescribed.push(at);
        walk(value, at);
      }
      if (n.items) walk(n.items, `${path}[]`);
      if (n.additionalProperties) walk(n.additionalProperties, `${path}.*`);
      for (const key of ['anyOf', 'oneOf', 'allOf']) for (const sub of (n[key] ?? []) as unknown[]) walk(sub, path);
    };
    const schema = JSON.parse(environmentJsonSchema()) as { $defs?: Record<string, unknown> };
    walk(schema, '');
    for (const [name, definition] of Object.entries(schema.$defs ?? {})) walk(definition, `#${name}`);
    expect(undescribed).toEqual([]);
  });

  it('flags in an editor what the rules refuse that JSON Schema can say: a Fargate size off its cpu, the default queue', () => {
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(environmentJsonSchema()));
    const errorsOf = (text: string) => {
      validate(parseDocument(text).toJS());
      return (validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => `${e.instancePath} ${e.message}`);
    };
    expect(
      errorsOf(
        envYaml(`  image:
    queues: [image]
    cpu: 1024
    memory: 4096
`),
      ),
    ).toEqual([]);
    expect(
      errorsOf(
        envYaml(`  image:
    queues: [image]
    cpu: 256
    memory: 4096
`),
      ),
    ).toEqual(['/lanes/image/memory must be equal to one of the allowed values']);
    expect(
      errorsOf(
        envYaml(`  image:
    queues: [image, default]
`),
      ),
    ).toEqual(['/lanes/image/queues/1 must NOT be valid']);
    expect(
      errorsOf(
        envYaml(`  image:
    groups: [{ name: main, queues: [default] }]
`),
      ),
    ).toEqual(['/lanes/image/groups/0/queues/0 must NOT be valid']);
  });
});
