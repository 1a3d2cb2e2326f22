import { clusterName, type EnvironmentConfig } from '@queue-lanes/config';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Construct } from 'constructs';

/*
 * Rollout lesson, kept in the code that encodes it: access to Redis and Aurora is
 * granted to the *current worker security group* (referenced_security_group_id on
 * the datastores' own groups), never to the addresses of old workers. Fargate tasks
 * get a new IP every time they are replaced (deploy, scale-out, Spot reclaim), so
 * IP-based grants strand the replacements: the new task starts, cannot reach
 * Redis, and the lane stops while the old addresses stay allowed. Group-based
 * grants follow whatever task carries the group, so replacing workers never
 * strands them. The same holds for the controller Lambda's ENIs.
 */

/** An existing datastore (Redis or Aurora) the workers reach. */
export interface DatastoreAccess {
  /** The datastore's own security group (sg-…); it gets the ingress rules. */
  readonly securityGroupId: string;
  /**
   * TCP port the datastore listens on.
   * @default 6379 for Redis, 3306 for Aurora
   */
  readonly port?: number;
}

/** Where HTTPS (443) egress for ECR, S3, SSM and CloudWatch Logs goes. */
export interface HttpsEgress {
  /**
   * Managed prefix lists (pl-…), e.g. the S3 gateway endpoint's.
   * @default []
   */
  readonly prefixListIds?: readonly string[];
  /**
   * Security groups of interface VPC endpoints (ecr.api, ecr.dkr, ssm, logs, …).
   * @default []
   */
  readonly securityGroupIds?: readonly string[];
}

export interface WorkerNetworkProps {
  /** `<app>-<env>`: the group names are `<namePrefix>-workers` and `<namePrefix>-controller`. */
  readonly namePrefix: string;
  /** The VPC the worker tasks and the controller run in (vpc-…). */
  readonly vpcId: string;
  /** The existing Redis (the queues). Workers and the controller reach it. */
  readonly redis: DatastoreAccess;
  /** The existing Aurora cluster. Workers reach it; the controller does not. */
  readonly aurora: DatastoreAccess;
  /**
   * HTTPS destinations (VPC endpoints, prefix lists). When absent, 443 goes to
   * 0.0.0.0/0 (through the subnets' NAT). When present it must name at least one.
   * @default 443 to 0.0.0.0/0
   */
  readonly httpsEgress?: HttpsEgress;
}

/** Either kind of security-group rule resource. */
export type SecurityGroupRule = VpcSecurityGroupIngressRule | VpcSecurityGroupEgressRule;

export const DEFAULT_REDIS_PORT = 6379;
export const DEFAULT_AURORA_PORT = 3306;
export const HTTPS_PORT = 443;

/** The networking construct's props for one environment, as compose builds them. */
export function workerNetworkProps(env: EnvironmentConfig): WorkerNetworkProps {
  return {
    namePrefix: clusterName(env),
    vpcId: env.network.vpcId,
    redis: env.network.redis,
    aurora: env.network.aurora,
    ...(env.network.httpsEgress ? { httpsEgress: env.network.httpsEgress } : {}),
  };
}

/**
 * The worker and controller security groups of one environment and every rule
 * they need, one rule resource per rule (no inline rules, so nothing fights over
 * them):
 *
 * - workers → Redis and workers → Aurora: egress on the worker group, and ingress
 *   on the existing Redis/Aurora groups from the worker group (never a CIDR);
 * - controller → Redis, likewise;
 * - HTTPS (443) out from both groups, for ECR, S3, SSM and CloudWatch Logs (the
 *   controller also calls ECS and CloudWatch metrics): to each configured
 *   prefix list and endpoint group, or to 0.0.0.0/0 when none is configured.
 *
 * Nothing is ever open for ingress from 0.0.0.0/0 or ::/0: the two groups have no
 * ingress rules at all. Each rule carries a `Name` tag (`<namePrefix>-<rule>`) and
 * is in {@link WorkerNetwork.rules} under the same `<rule>` key.
 */
export class WorkerNetwork extends Construct {
  /** The group every worker task (and the scheduler service) runs in. */
  readonly workerSecurityGroup: SecurityGroup;
  /** The group the backlog controller Lambda runs in. */
  readonly controllerSecurityGroup: SecurityGroup;
  /** Id of {@link workerSecurityGroup}; a cross-stack reference when used in another stack. */
  readonly workerSecurityGroupId: string;
  /** Id of {@link controllerSecurityGroup}; a cross-stack reference when used in another stack. */
  readonly controllerSecurityGroupId: string;
  /** Resolved Redis port. */
  readonly redisPort: number;
  /** Resolved Aurora port. */
  readonly auroraPort: number;
  /**
   * Every rule, by name: `workers-to-redis`, `redis-from-workers`, `workers-to-aurora`,
   * `aurora-from-workers`, `controller-to-redis`, `redis-from-controller`, and
   * `<workers|controller>-https-to-<pl-…|sg-…|anywhere>`.
   */
  readonly rules: Readonly<Record<string, SecurityGroupRule>>;

  constructor(scope: Construct, id: string, props: WorkerNetworkProps) {
    super(scope, id);
    validate(props);

    this.redisPort = props.redis.port ?? DEFAULT_REDIS_PORT;
    this.auroraPort = props.aurora.port ?? DEFAULT_AURORA_PORT;
    const prefix = props.namePrefix;
    this.workerSecurityGroup = securityGroup(this, 'workers', props, `Queue-lane worker tasks of ${prefix}`);
    this.controllerSecurityGroup = securityGroup(this, 'controller', props, `Backlog controller of ${prefix}`);
    this.workerSecurityGroupId = this.workerSecurityGroup.id;
    this.controllerSecurityGroupId = this.controllerSecurityGroup.id;

    const rules: RuleSpec[] = [
      ...datastoreRules(prefix, 'workers', this.workerSecurityGroupId, 'redis', props.redis, this.redisPort),
      ...datastoreRules(prefix, 'workers', this.workerSecurityGroupId, 'aurora', props.aurora, this.auroraPort),
      ...datastoreRules(prefix, 'controller', this.controllerSecurityGroupId, 'redis', props.redis, this.redisPort),
      ...httpsRules('workers', this.workerSecurityGroupId, props.httpsEgress),
      ...httpsRules('controller', this.controllerSecurityGroupId, props.httpsEgress),
    ];
    this.rules = Object.fromEntries(rules.map((rule) => [rule.name, createRule(this, prefix, rule)]));
  }
}

/**
 * `<namePrefix>-<role>` in the VPC. No ingress/egress blocks: the rules are separate
 * resources, and inline blocks would make Terraform delete them on every apply. The
 * description forces a replacement when changed (and a group in use cannot be
 * deleted): keep it stable.
 */
function securityGroup(scope: Construct, role: 'workers' | 'controller', props: WorkerNetworkProps, description: string): SecurityGroup {
  const name = `${props.namePrefix}-${role}`;
  return new SecurityGroup(scope, role, { name, description, vpcId: props.vpcId, tags: { Name: name } });
}

interface RuleConfig {
  readonly name: string;
  readonly securityGroupId: string;
  readonly port: number;
  readonly description: string;
  readonly referencedSecurityGroupId?: string;
  readonly prefixListId?: string;
  readonly cidrIpv4?: string;
}

/** One rule to create: which way it goes, and its settings. */
interface RuleSpec extends RuleConfig {
  readonly direction: 'egress' | 'ingress';
}

/** Egress from one of the groups to a datastore, and the datastore group's ingress from it, on the datastore's port. */
function datastoreRules(
  prefix: string,
  from: 'workers' | 'controller',
  fromGroupId: string,
  to: 'redis' | 'aurora',
  datastore: DatastoreAccess,
  port: number,
): RuleSpec[] {
  const label = to === 'redis' ? 'Redis' : 'Aurora';
  const who = from === 'workers' ? 'Queue-lane workers' : 'Backlog controller';
  return [
    {
      direction: 'egress',
      name: `${from}-to-${to}`,
      securityGroupId: fromGroupId,
      port,
      referencedSecurityGroupId: datastore.securityGroupId,
      description: `${who} to ${label} on ${port}`,
    },
    {
      direction: 'ingress',
      name: `${to}-from-${from}`,
      securityGroupId: datastore.securityGroupId,
      port,
      referencedSecurityGroupId: fromGroupId,
      description: `${label} from ${prefix} ${from === 'workers' ? 'queue-lane workers' : 'backlog controller'}`,
    },
  ];
}

/** HTTPS out from one of the groups: to each prefix list and endpoint group, or anywhere when none is configured. */
function httpsRules(from: 'workers' | 'controller', groupId: string, httpsEgress: HttpsEgress | undefined): RuleSpec[] {
  const https = 'HTTPS to ECR, S3, SSM and CloudWatch';
  const rule = (
    to: string,
    destination: Pick<RuleConfig, 'prefixListId' | 'referencedSecurityGroupId' | 'cidrIpv4'>,
    description: string,
  ) => ({
    direction: 'egress' as const,
    name: `${from}-https-to-${to}`,
    securityGroupId: groupId,
    port: HTTPS_PORT,
    ...destination,
    description,
  });
  if (httpsEgress === undefined) return [rule('anywhere', { cidrIpv4: '0.0.0.0/0' }, `${https} (no VPC endpoints configured)`)];
  return [
    ...(httpsEgress.prefixListIds ?? []).map((id) => rule(id, { prefixListId: id }, `${https} via prefix list ${id}`)),
    ...(httpsEgress.securityGroupIds ?? []).map((id) =>
      rule(id, { referencedSecurityGroupId: id }, `${https} via VPC endpoint group ${id}`),
    ),
  ];
}

/** The rule resource, tagged `<prefix>-<rule name>`. */
function createRule(scope: Construct, prefix: string, { direction, ...rule }: RuleSpec): SecurityGroupRule {
  const config = ruleConfig(prefix, rule);
  return direction === 'egress'
    ? new VpcSecurityGroupEgressRule(scope, rule.name, config)
    : new VpcSecurityGroupIngressRule(scope, rule.name, config);
}

function ruleConfig(prefix: string, rule: RuleConfig) {
  return {
    securityGroupId: rule.securityGroupId,
    ipProtocol: 'tcp',
    fromPort: rule.port,
    toPort: rule.port,
    description: rule.description,
    ...(rule.referencedSecurityGroupId === undefined ? {} : { referencedSecurityGroupId: rule.referencedSecurityGroupId }),
    ...(rule.prefixListId === undefined ? {} : { prefixListId: rule.prefixListId }),
    ...(rule.cidrIpv4 === undefined ? {} : { cidrIpv4: rule.cidrIpv4 }),
    tags: { Name: `${prefix}-${rule.name}` },
  };
}

/** Problems the config schema does not catch, because they need the derived names or several keys at once. */
function validate(props: WorkerNetworkProps): void {
  const problems: string[] = [];
  // EC2 rejects group names starting with "sg-" (they would read as group ids).
  if (`${props.namePrefix}-`.toLowerCase().startsWith('sg-')) {
    problems.push(
      `security group names "${props.namePrefix}-workers" and "${props.namePrefix}-controller" start with "sg-", which EC2 reserves for group ids; choose an app name that does not start with "sg-"`,
    );
  }
  for (const [key, datastore] of [
    ['redis', props.redis],
    ['aurora', props.aurora],
  ] as const) {
    if (datastore.port !== undefined && !(Number.isInteger(datastore.port) && datastore.port >= 1 && datastore.port <= 65535)) {
      problems.push(`network.${key}.port: ${datastore.port} is not a TCP port (1-65535)`);
    }
  }
  const redisPort = props.redis.port ?? DEFAULT_REDIS_PORT;
  const auroraPort = props.aurora.port ?? DEFAULT_AURORA_PORT;
  if (props.redis.securityGroupId === props.aurora.securityGroupId && redisPort === auroraPort) {
    problems.push(
      `network.redis and network.aurora share security group ${props.redis.securityGroupId} and port ${redisPort}; the two rules would be duplicates, which EC2 rejects`,
    );
  }
  if (props.httpsEgress !== undefined) {
    const prefixLists = props.httpsEgress.prefixListIds ?? [];
    const endpointGroups = props.httpsEgress.securityGroupIds ?? [];
    if (prefixLists.length === 0 && endpointGroups.length === 0) {
      problems.push(
        'network.httpsEgress lists no prefixListIds and no securityGroupIds, so workers could not pull images or read parameters; list the VPC endpoints, or remove httpsEgress to allow 443 to 0.0.0.0/0',
      );
    }
    for (const [key, ids] of [
      ['prefixListIds', prefixLists],
      ['securityGroupIds', endpointGroups],
    ] as const) {
      const seen = new Set<string>();
      for (const value of ids) {
        if (seen.has(value)) problems.push(`network.httpsEgress.${key}: ${value} is listed twice; EC2 rejects duplicate rules`);
        seen.add(value);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(`WorkerNetwork ${props.namePrefix}:\n  ${problems.join('\n  ')}`);
  }
}
