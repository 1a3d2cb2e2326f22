import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { ConfigError, SettingError, parseEnvironment } from '@queue-lanes/config';
import { synthesizeToJson } from '@queue-lanes/stacks/testing';
import { foreignTemplates, jsonStrings } from '../terraform/templates';

/*
 * The contents of staging.yaml's strings, mutated, seeded: whatever a value holds
 * (a template, a control character, a NUL, a space or a slash in a name, a repeated
 * id, text from another script, a very long value), a file synth accepts is one
 * Terraform, AWS and Laravel accept too. Every accepted file is synthesized and its
 * stacks held to Terraform's rule (no template but synth's own references) and to the
 * names and sizes AWS documents for what the stacks create (AWS_RULES). A file refused
 * is refused at its line (tools/fuzz/fuzz.test.ts holds every refusal to that).
 *
 * QUEUE_LANES_FUZZ_RUNS sets the number of cases (default 300).
 */

const root = join(__dirname, '..', '..');
const FILE = 'environments/staging.yaml';
const TEXT = readFileSync(join(root, FILE), 'utf8');
const RUNS = Number(process.env.QUEUE_LANES_FUZZ_RUNS ?? 300);
const SEED = 20261207;

/** What a mutation puts in a string, by class. */
const CONTENT: Readonly<Record<string, readonly string[]>> = {
  template: ['${aws_iam_role.x.arn}', '%{ if true }x%{ endif }', '${var.x}', '$${x}', '%%{x}', '${', '%{'],
  'cdktf-mark': ['${TfToken[TOKEN.1]}', '#{TfToken[TOKEN.2]}'],
  control: ['\n', '\t', '\r\n', '\0', '\x1b[0m', '\x7f', '\u0085', '\u2028'],
  punctuation: [' ', '/', '\\', '"', "'", ',', ':', '*', '#', '{x}', '..', '@'],
  unicode: ['é', 'Straße', '🚀', '\u200b', '\u202e', 'ﬁ'],
  long: ['x'.repeat(300), 'y'.repeat(1100), 'z'.repeat(5000)],
};

/** Optional keys staging.yaml leaves out that take free text, and the value each takes around the content. */
const OPTIONAL: readonly { readonly path: (string | number)[]; readonly value: (content: string) => unknown }[] = [
  { path: ['redis', 'host'], value: (c) => `cache${c}.internal` },
  { path: ['redis', 'username'], value: (c) => `queue${c}` },
  { path: ['parameters', 'plain', 'MAIL_FROM_NAME'], value: (c) => `Feeds${c}` },
  { path: ['lanes', 'image', 'command'], value: (c) => ['php', 'artisan', 'queue:work', `--name=${c}`] },
  { path: ['lanes', 'image', 'connection'], value: (c) => `redis${c}` },
  { path: ['state'], value: (c) => ({ backend: 'cloud', organization: `acme${c}`, project: `lanes${c}`, workspacePrefix: `pf${c}` }) },
  { path: ['state'], value: (c) => ({ backend: 's3', bucket: 'acme-state', keyPrefix: `pf${c}`, kmsKeyId: `alias/state${c}` }) },
  { path: ['alarms', 'subscriptions'], value: (c) => [{ protocol: 'https', endpoint: `https://hooks.example.com/${c}` }] },
  { path: ['alarms', 'subscriptions'], value: (c) => [{ protocol: 'email', endpoint: `oncall${c}@example.com` }] },
];

type Path = (string | number)[];

/** Every string scalar's path in the document. */
function stringPaths(doc: Document): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, path: Path): void => {
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)]);
    else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
    else if (isScalar(node) && typeof node.value === 'string') out.push(path);
  };
  walk(doc.contents, []);
  return out;
}

const mutation = fc.record({
  op: fc.constantFrom('append', 'prepend', 'replace', 'insert', 'optional', 'duplicate', 'nul-byte'),
  kind: fc.constantFrom(...Object.keys(CONTENT)),
  content: fc.nat(),
  target: fc.nat(),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

/** staging.yaml with one mutation. */
function mutate(m: Mutation): string {
  const doc = parseDocument(TEXT);
  const options = CONTENT[m.kind];
  const content = options[m.content % options.length];
  const paths = stringPaths(doc);
  const path = paths[m.target % paths.length];
  const old = String(doc.getIn(path));
  switch (m.op) {
    case 'append':
      doc.setIn(path, old + content);
      break;
    case 'prepend':
      doc.setIn(path, content + old);
      break;
    case 'replace':
      doc.setIn(path, content);
      break;
    case 'insert':
      doc.setIn(path, old.slice(0, m.target % (old.length + 1)) + content + old.slice(m.target % (old.length + 1)));
      break;
    case 'optional': {
      const { path: key, value } = OPTIONAL[m.target % OPTIONAL.length];
      doc.setIn(key, doc.createNode(value(content)));
      break;
    }
    case 'duplicate': {
      // A list's item given twice (a subnet, a queue, a secret).
      const lists = paths.filter((p) => typeof p[p.length - 1] === 'number');
      const item = lists[m.target % lists.length];
      doc.addIn(item.slice(0, -1), doc.getIn(item));
      break;
    }
    case 'nul-byte': {
      // A raw NUL anywhere in the text, comments included.
      const text = doc.toString();
      const at = m.target % text.length;
      return text.slice(0, at) + '\0' + text.slice(at);
    }
  }
  return doc.toString();
}

/** One AWS rule on an attribute of a resource type: its documented characters and length. */
interface AwsRule {
  readonly type: string;
  readonly attribute: string;
  readonly pattern?: RegExp;
  /** In characters, as AWS's API references give a string's length constraints. */
  readonly maxLength?: number;
  /** In bytes of UTF-8, where AWS limits the size (a parameter's value). */
  readonly maxBytes?: number;
  readonly why: string;
}

/* The names and sizes AWS documents for the attributes the stacks set from the file, each from its API reference. */
const AWS_RULES: readonly AwsRule[] = [
  { type: 'aws_ssm_parameter', attribute: 'name', pattern: /^[a-zA-Z0-9_.\-/]{1,1011}$/, why: 'SSM PutParameter Name' },
  { type: 'aws_ssm_parameter', attribute: 'value', pattern: /^[\s\S]+$/, maxBytes: 4096, why: 'SSM PutParameter Value (standard tier)' },
  { type: 'aws_ssm_parameter', attribute: 'description', maxLength: 1024, why: 'SSM PutParameter Description' },
  {
    type: 'aws_cloudwatch_metric_alarm',
    attribute: 'alarm_name',
    pattern: /^[^\p{Cc}]{1,255}$/u,
    why: 'CloudWatch PutMetricAlarm AlarmName',
  },
  {
    type: 'aws_cloudwatch_metric_alarm',
    attribute: 'alarm_description',
    maxLength: 1024,
    why: 'CloudWatch PutMetricAlarm AlarmDescription',
  },
  { type: 'aws_lambda_function', attribute: 'function_name', pattern: /^[a-zA-Z0-9_-]{1,64}$/, why: 'Lambda CreateFunction FunctionName' },
  { type: 'aws_iam_role', attribute: 'name', pattern: /^[\w+=,.@-]{1,64}$/, why: 'IAM CreateRole RoleName' },
  {
    type: 'aws_iam_role',
    attribute: 'description',
    pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]{0,1000}$/,
    why: 'IAM CreateRole Description',
  },
  { type: 'aws_ecs_service', attribute: 'name', pattern: /^[a-zA-Z0-9_-]{1,255}$/, why: 'ECS CreateService serviceName' },
  { type: 'aws_ecs_task_definition', attribute: 'family', pattern: /^[a-zA-Z0-9_-]{1,255}$/, why: 'ECS RegisterTaskDefinition family' },
  {
    type: 'aws_cloudwatch_log_group',
    attribute: 'name',
    pattern: /^[.\-_/#A-Za-z0-9]{1,512}$/,
    why: 'CloudWatch Logs CreateLogGroup logGroupName',
  },
  {
    type: 'aws_cloudwatch_log_metric_filter',
    attribute: 'name',
    pattern: /^[^:*]{1,512}$/,
    why: 'CloudWatch Logs PutMetricFilter filterName',
  },
  { type: 'aws_sqs_queue', attribute: 'name', pattern: /^[a-zA-Z0-9_-]{1,80}$/, why: 'SQS CreateQueue QueueName' },
  { type: 'aws_sns_topic', attribute: 'name', pattern: /^[a-zA-Z0-9_-]{1,256}$/, why: 'SNS CreateTopic Name' },
  {
    type: 'aws_cloudwatch_dashboard',
    attribute: 'dashboard_name',
    pattern: /^[a-zA-Z0-9_-]{1,255}$/,
    why: 'CloudWatch PutDashboard DashboardName',
  },
  { type: 'aws_cloudwatch_event_rule', attribute: 'name', pattern: /^[.\-_A-Za-z0-9]{1,64}$/, why: 'EventBridge PutRule Name' },
  {
    type: 'aws_scheduler_schedule',
    attribute: 'name',
    pattern: /^[0-9a-zA-Z-_.]{1,64}$/,
    why: 'EventBridge Scheduler CreateSchedule Name',
  },
  {
    type: 'aws_security_group',
    attribute: 'description',
    pattern: /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]{0,255}$/,
    why: 'EC2 CreateSecurityGroup GroupDescription',
  },
];

/** Tag keys and values as AWS's tagging rules allow them (Tagging AWS resources, "Tag naming limits and requirements"). */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** A string as Terraform passes it on: its escapes read back ($${ is ${, %%{ is %{). */
function unescape(text: string): string {
  return text.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

/** An email address as SNS takes one (the HTML living standard's valid e-mail address). */
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Containers no task could start: an argument with a NUL (execve takes C strings), a name ECS refuses. */
function containerRefusals(resources: Record<string, Record<string, Record<string, unknown>>>): string[] {
  return Object.entries(resources.aws_ecs_task_definition ?? {}).flatMap(([name, task]) => {
    const containers = JSON.parse(unescape(String(task.container_definitions))) as {
      name: string;
      command?: string[];
    }[];
    return containers.flatMap((c) => [
      ...(/^[a-zA-Z0-9_-]{1,255}$/.test(c.name) ? [] : [`ECS container name ${JSON.stringify(c.name)} in ${name}`]),
      ...(c.command ?? []).filter((arg) => arg.includes('\0')).map((arg) => `a NUL in ${name}'s ${c.name} command: ${JSON.stringify(arg)}`),
    ]);
  });
}

/** What AWS, Terraform or Terraform Cloud would refuse in synthesized stacks. */
function refusals(stacks: Record<string, Record<string, unknown>>): string[] {
  const found: string[] = [];
  for (const [role, stack] of Object.entries(stacks)) {
    found.push(...foreignTemplates(stack).map((t) => `${role}: Terraform reads a template: ${t}`));
    const resources = (stack.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
    for (const rule of AWS_RULES) {
      for (const [name, block] of Object.entries(resources[rule.type] ?? {})) {
        const value = block[rule.attribute];
        if (typeof value !== 'string') continue;
        // A reference resolves at apply; what synth wrote around it is what the rule sees.
        const literal = unescape(value.replace(/(?<!\$)\$\{[^}]*\}/g, 'x'));
        if (
          (rule.pattern && !rule.pattern.test(literal)) ||
          [...literal].length > (rule.maxLength ?? Infinity) ||
          Buffer.byteLength(literal) > (rule.maxBytes ?? Infinity)
        )
          found.push(`${role}: ${rule.why}: ${rule.type}.${name}.${rule.attribute} = ${JSON.stringify(literal.slice(0, 120))}`);
      }
    }
    for (const [path, text] of jsonStrings(stack)) {
      if (/(^|\.)tags(_all)?\.|default_tags\[\d+\]\.tags\./.test(path) && !TAG_VALUE.test(text))
        found.push(`${role}: tag value ${path} = ${JSON.stringify(text)}`);
    }
    found.push(...containerRefusals(resources).map((r) => `${role}: ${r}`));
    for (const [name, fn] of Object.entries(resources.aws_lambda_function ?? {})) {
      // Lambda's quota: a function's environment variables total at most 4 KB.
      const variables = (fn.environment as { variables?: Record<string, string> } | undefined)?.variables ?? {};
      const bytes = Object.entries(variables).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(unescape(v)), 0);
      if (bytes > 4096) found.push(`${role}: Lambda environment of ${name} is ${bytes} bytes, over 4 KB`);
    }
    for (const [name, sub] of Object.entries(resources.aws_sns_topic_subscription ?? {})) {
      if (sub.protocol === 'email' && !EMAIL.test(unescape(String(sub.endpoint))))
        found.push(`${role}: SNS Subscribe email Endpoint: ${name} = ${JSON.stringify(sub.endpoint)}`);
    }
    const cloud = (stack.terraform as { cloud?: { workspaces?: { name?: string } } } | undefined)?.cloud;
    const workspace = cloud?.workspaces?.name;
    if (workspace !== undefined && !/^[A-Za-z0-9_-]+$/.test(workspace))
      found.push(`${role}: Terraform Cloud workspace name ${JSON.stringify(workspace)}`);
    const organization = (cloud as { organization?: string } | undefined)?.organization;
    if (organization !== undefined && !/^[A-Za-z0-9_-]+$/.test(organization))
      found.push(`${role}: Terraform Cloud organization name ${JSON.stringify(organization)}`);
  }
  return found;
}

describe('staging.yaml, its strings mutated', () => {
  it('synthesizes only what Terraform and AWS accept, or is refused at a line', () => {
    const outcome = { accepted: 0, refused: 0 };
    const classes = new Set<string>();
    fc.assert(
      fc.property(mutation, (m) => {
        const text = mutate(m);
        let env;
        try {
          env = parseEnvironment(text, FILE);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw new Error(`not a located problem: ${(error as Error).stack}`);
          expect(error.problems.every((p) => p.file === FILE && (p.line ?? 0) >= 1)).toBe(true);
          outcome.refused += 1;
          return;
        }
        outcome.accepted += 1;
        classes.add(`${m.op}:${m.kind}`);
        let stacks;
        try {
          stacks = synthesizeToJson(env);
        } catch (error) {
          if (error instanceof SettingError) return;
          throw new Error(`synth threw where the file was accepted: ${(error as Error).message}\n${text}`);
        }
        expect({ refusals: refusals(stacks), text }).toEqual({ refusals: [], text });
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Both outcomes are reached, by several classes of mutation, so the checks above ran.
    expect(outcome.refused).toBeGreaterThan(RUNS / 10);
    expect(outcome.accepted).toBeGreaterThan(RUNS / 10);
    expect(classes.size).toBeGreaterThan(5);
  }, 1_800_000);
});
