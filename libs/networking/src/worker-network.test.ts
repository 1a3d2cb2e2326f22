// Types of the matchers tools/jest-setup.ts installs (Testing.setupJest()).
import type {} from 'cdktf/lib/testing/adapters/jest';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule as ClassicSecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { TerraformStack, Testing } from 'cdktf';
import { WorkerNetwork, workerNetworkProps, type WorkerNetworkProps } from './index';
import { openIngress } from './testing';

const REDIS_SG = 'sg-0123456789abcdef1';
const AURORA_SG = 'sg-0123456789abcdef2';

const BASE: WorkerNetworkProps = {
  namePrefix: 'propertyfeed-staging',
  vpcId: 'vpc-0123456789abcdef0',
  redis: { securityGroupId: REDIS_SG },
  aurora: { securityGroupId: AURORA_SG },
};

type Json = Record<string, Record<string, Record<string, Record<string, unknown>>>>;

function synth(props: WorkerNetworkProps): string {
  return Testing.synthScope((scope) => {
    new WorkerNetwork(scope, 'network', props);
  });
}

/** The `${aws_security_group.<id>.id}` expression of the group tagged `name`. */
function groupRef(json: string, name: string): string {
  const groups = (JSON.parse(json) as Json).resource.aws_security_group;
  const ids = Object.keys(groups).filter((id) => (groups[id].tags as Record<string, string>).Name === name);
  expect(ids).toHaveLength(1);
  return `\${aws_security_group.${ids[0]}.id}`;
}

/** Name tags of every resource of a type. */
function ruleNames(json: string, type: string): string[] {
  const resources = (JSON.parse(json) as Json).resource[type] ?? {};
  return Object.values(resources)
    .map((r) => (r.tags as Record<string, string>).Name)
    .sort();
}

describe('WorkerNetwork', () => {
  const json = synth(BASE);
  const workers = groupRef(json, 'propertyfeed-staging-workers');
  const controller = groupRef(json, 'propertyfeed-staging-controller');

  it('creates the worker and controller groups in the VPC, described, without inline rules', () => {
    expect(json).toHaveResourceWithProperties(SecurityGroup, {
      name: 'propertyfeed-staging-workers',
      description: 'Queue-lane worker tasks of propertyfeed-staging',
      vpc_id: 'vpc-0123456789abcdef0',
    });
    expect(json).toHaveResourceWithProperties(SecurityGroup, {
      name: 'propertyfeed-staging-controller',
      description: 'Backlog controller of propertyfeed-staging',
      vpc_id: 'vpc-0123456789abcdef0',
    });
    const groups = Object.values((JSON.parse(json) as Json).resource.aws_security_group);
    expect(groups).toHaveLength(2);
    for (const group of groups) {
      expect(group).not.toHaveProperty('ingress');
      expect(group).not.toHaveProperty('egress');
    }
    expect(json).not.toHaveResource(ClassicSecurityGroupRule);
  });

  // Each group-to-group rule: egress on the workers' or the controller's group, ingress on the datastore's.
  const [egress, ingress] = [VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule];
  it.each<[string, typeof egress | typeof ingress, string, string, number, string]>([
    ['workers-to-redis', egress, workers, REDIS_SG, 6379, 'Queue-lane workers to Redis on 6379'],
    ['redis-from-workers', ingress, REDIS_SG, workers, 6379, 'Redis from propertyfeed-staging queue-lane workers'],
    ['workers-to-aurora', egress, workers, AURORA_SG, 3306, 'Queue-lane workers to Aurora on 3306'],
    ['aurora-from-workers', ingress, AURORA_SG, workers, 3306, 'Aurora from propertyfeed-staging queue-lane workers'],
    ['controller-to-redis', egress, controller, REDIS_SG, 6379, 'Backlog controller to Redis on 6379'],
    ['redis-from-controller', ingress, REDIS_SG, controller, 6379, 'Redis from propertyfeed-staging backlog controller'],
  ])('lets %s through, group to group, on the default port', (rule, type, group, referenced, port, description) => {
    expect(json).toHaveResourceWithProperties(type, {
      tags: { Name: `propertyfeed-staging-${rule}` },
      security_group_id: group,
      referenced_security_group_id: referenced,
      ip_protocol: 'tcp',
      from_port: port,
      to_port: port,
      description,
    });
  });

  it('does not let the controller reach Aurora', () => {
    expect(json).not.toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      security_group_id: controller,
      referenced_security_group_id: AURORA_SG,
    });
  });

  it('sends HTTPS to anywhere when no endpoints are configured', () => {
    for (const [from, group] of [
      ['workers', workers],
      ['controller', controller],
    ]) {
      expect(json).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
        tags: { Name: `propertyfeed-staging-${from}-https-to-anywhere` },
        security_group_id: group,
        cidr_ipv4: '0.0.0.0/0',
        ip_protocol: 'tcp',
        from_port: 443,
        to_port: 443,
        description: 'HTTPS to ECR, S3, SSM and CloudWatch (no VPC endpoints configured)',
      });
    }
  });

  it('creates exactly these rules, and names each one as it appears in `rules`', () => {
    expect(ruleNames(json, 'aws_vpc_security_group_egress_rule')).toEqual([
      'propertyfeed-staging-controller-https-to-anywhere',
      'propertyfeed-staging-controller-to-redis',
      'propertyfeed-staging-workers-https-to-anywhere',
      'propertyfeed-staging-workers-to-aurora',
      'propertyfeed-staging-workers-to-redis',
    ]);
    expect(ruleNames(json, 'aws_vpc_security_group_ingress_rule')).toEqual([
      'propertyfeed-staging-aurora-from-workers',
      'propertyfeed-staging-redis-from-controller',
      'propertyfeed-staging-redis-from-workers',
    ]);
    const app = Testing.app();
    const network = new WorkerNetwork(new TerraformStack(app, 'stack'), 'network', BASE);
    expect(Object.keys(network.rules).sort()).toEqual([
      'aurora-from-workers',
      'controller-https-to-anywhere',
      'controller-to-redis',
      'redis-from-controller',
      'redis-from-workers',
      'workers-https-to-anywhere',
      'workers-to-aurora',
      'workers-to-redis',
    ]);
    expect(network.rules['workers-to-redis']).toBeInstanceOf(VpcSecurityGroupEgressRule);
    expect(network.rules['redis-from-workers']).toBeInstanceOf(VpcSecurityGroupIngressRule);
    expect([network.redisPort, network.auroraPort]).toEqual([6379, 3306]);
  });

  it('sends HTTPS only to the configured prefix lists and endpoint groups', () => {
    const withEndpoints = synth({
      ...BASE,
      httpsEgress: {
        prefixListIds: ['pl-0123456789abcdef0'],
        securityGroupIds: ['sg-0123456789abcdef7', 'sg-0123456789abcdef8'],
      },
    });
    for (const from of ['workers', 'controller']) {
      const group = groupRef(withEndpoints, `propertyfeed-staging-${from}`);
      expect(withEndpoints).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
        tags: { Name: `propertyfeed-staging-${from}-https-to-pl-0123456789abcdef0` },
        security_group_id: group,
        prefix_list_id: 'pl-0123456789abcdef0',
        ip_protocol: 'tcp',
        from_port: 443,
        to_port: 443,
        description: 'HTTPS to ECR, S3, SSM and CloudWatch via prefix list pl-0123456789abcdef0',
      });
      for (const endpoint of ['sg-0123456789abcdef7', 'sg-0123456789abcdef8']) {
        expect(withEndpoints).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
          tags: { Name: `propertyfeed-staging-${from}-https-to-${endpoint}` },
          security_group_id: group,
          referenced_security_group_id: endpoint,
          ip_protocol: 'tcp',
          from_port: 443,
          to_port: 443,
          description: `HTTPS to ECR, S3, SSM and CloudWatch via VPC endpoint group ${endpoint}`,
        });
      }
    }
    expect(withEndpoints).not.toHaveResourceWithProperties(VpcSecurityGroupEgressRule, { cidr_ipv4: '0.0.0.0/0' });
    expect(ruleNames(withEndpoints, 'aws_vpc_security_group_egress_rule')).toHaveLength(3 + 2 * 3);
  });

  it('exposes the group ids for other stacks as cross-stack references', () => {
    const app = Testing.app();
    const networking = new TerraformStack(app, 'networking');
    const network = new WorkerNetwork(networking, 'network', BASE);
    const workersStack = new TerraformStack(app, 'workers');
    // Any resource in another stack that takes a group id will do.
    new SsmParameter(workersStack, 'consumer', {
      name: '/test/ids',
      type: 'String',
      value: `${network.workerSecurityGroupId},${network.controllerSecurityGroupId}`,
    });
    // As App.synth does: preparing resolves the references, adding outputs and remote state.
    for (const stack of [networking, workersStack]) stack.prepareStack();
    const consumer = JSON.parse(Testing.synth(workersStack)) as Json;
    const producerJson = Testing.synth(networking);
    const outputs = (JSON.parse(producerJson) as { output: Record<string, { value: string }> }).output;
    expect(
      Object.values(outputs)
        .map((o) => o.value)
        .sort(),
    ).toEqual([groupRef(producerJson, 'propertyfeed-staging-controller'), groupRef(producerJson, 'propertyfeed-staging-workers')].sort());
    expect(Object.keys(consumer.data.terraform_remote_state)).toEqual([expect.stringContaining('networking')]);
    const value = (consumer.resource.aws_ssm_parameter.consumer as { value: string }).value;
    expect(value).toMatch(
      /^\$\{data\.terraform_remote_state\.[^.]+\.outputs\.[^}]+\},\$\{data\.terraform_remote_state\.[^.]+\.outputs\.[^}]+\}$/,
    );
  });
});

describe('WorkerNetwork from an environment file', () => {
  it('takes the default ports when the file gives none', () => {
    // The sample's network block gives no ports.
    const json = synth(workerNetworkProps(sampleEnvironment('')));
    expect(json).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      tags: { Name: 'propertyfeed-staging-redis-from-workers' },
      from_port: 6379,
      to_port: 6379,
    });
    expect(json).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      tags: { Name: 'propertyfeed-staging-aurora-from-workers' },
      from_port: 3306,
      to_port: 3306,
    });
  });

  it('uses the ports the file gives, for workers and controller alike', () => {
    const env = sampleEnvironment('', {
      network: `network:
  vpcId: vpc-0123456789abcdef0
  privateSubnetIds: [subnet-0123456789abcdef0]
  redis: { securityGroupId: ${REDIS_SG}, port: 6380 }
  aurora: { securityGroupId: ${AURORA_SG}, port: 3307 }
  httpsEgress: { prefixListIds: [pl-0123456789abcdef0] }`,
    });
    const json = synth(workerNetworkProps(env));
    for (const name of ['workers-to-redis', 'controller-to-redis']) {
      expect(json).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
        tags: { Name: `propertyfeed-staging-${name}` },
        from_port: 6380,
        to_port: 6380,
        description: expect.stringMatching(/ on 6380$/),
      });
    }
    for (const name of ['redis-from-workers', 'redis-from-controller']) {
      expect(json).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
        tags: { Name: `propertyfeed-staging-${name}` },
        from_port: 6380,
        to_port: 6380,
      });
    }
    expect(json).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      tags: { Name: 'propertyfeed-staging-workers-to-aurora' },
      from_port: 3307,
      to_port: 3307,
      description: 'Queue-lane workers to Aurora on 3307',
    });
    expect(json).toHaveResourceWithProperties(VpcSecurityGroupIngressRule, {
      tags: { Name: 'propertyfeed-staging-aurora-from-workers' },
      from_port: 3307,
      to_port: 3307,
    });
    expect(json).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      tags: { Name: 'propertyfeed-staging-workers-https-to-pl-0123456789abcdef0' },
      prefix_list_id: 'pl-0123456789abcdef0',
    });
    expect(json).not.toHaveResourceWithProperties(VpcSecurityGroupEgressRule, { cidr_ipv4: '0.0.0.0/0' });
  });
});

describe('no ingress from the internet', () => {
  it('is detected in every form the check looks for', () => {
    const json = Testing.synthScope((scope) => {
      new VpcSecurityGroupIngressRule(scope, 'v4', { securityGroupId: REDIS_SG, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' });
      new VpcSecurityGroupIngressRule(scope, 'v6', { securityGroupId: REDIS_SG, ipProtocol: '-1', cidrIpv6: '::/0' });
      new ClassicSecurityGroupRule(scope, 'classic', {
        securityGroupId: REDIS_SG,
        type: 'ingress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ['10.0.0.0/8', '0.0.0.0/0'],
      });
      new SecurityGroup(scope, 'inline', {
        ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, ipv6CidrBlocks: ['::/0'] }],
      });
    });
    expect(openIngress(json)).toEqual([
      'aws_vpc_security_group_ingress_rule.v4',
      'aws_vpc_security_group_ingress_rule.v6',
      'aws_security_group_rule.classic',
      'aws_security_group.inline',
    ]);
  });
});

describe('WorkerNetwork validation', () => {
  function error(props: WorkerNetworkProps): string {
    try {
      synth(props);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the props to be rejected');
  }

  it('rejects an app name that makes the group names look like group ids', () => {
    expect(error({ ...BASE, namePrefix: 'sg-staging' })).toBe(
      'WorkerNetwork sg-staging:\n  security group names "sg-staging-workers" and "sg-staging-controller" start with "sg-", which EC2 reserves for group ids; choose an app name that does not start with "sg-"',
    );
  });

  it('rejects httpsEgress that names no destination', () => {
    expect(error({ ...BASE, httpsEgress: { prefixListIds: [], securityGroupIds: [] } })).toBe(
      'WorkerNetwork propertyfeed-staging:\n  network.httpsEgress lists no prefixListIds and no securityGroupIds, so workers could not pull images or read parameters; list the VPC endpoints, or remove httpsEgress to allow 443 to 0.0.0.0/0',
    );
  });

  it('rejects a destination listed twice', () => {
    expect(
      error({
        ...BASE,
        httpsEgress: {
          prefixListIds: ['pl-0123456789abcdef0', 'pl-0123456789abcdef0'],
          securityGroupIds: ['sg-0123456789abcdef7', 'sg-0123456789abcdef7'],
        },
      }),
    ).toBe(
      'WorkerNetwork propertyfeed-staging:\n' +
        '  network.httpsEgress.prefixListIds: pl-0123456789abcdef0 is listed twice; EC2 rejects duplicate rules\n' +
        '  network.httpsEgress.securityGroupIds: sg-0123456789abcdef7 is listed twice; EC2 rejects duplicate rules',
    );
  });

  it('rejects Redis and Aurora sharing a group and a port', () => {
    expect(error({ ...BASE, redis: { securityGroupId: REDIS_SG, port: 5000 }, aurora: { securityGroupId: REDIS_SG, port: 5000 } })).toBe(
      'WorkerNetwork propertyfeed-staging:\n  network.redis and network.aurora share security group sg-0123456789abcdef1 and port 5000; the two rules would be duplicates, which EC2 rejects',
    );
    // Sharing a group on different ports is fine.
    expect(() => synth({ ...BASE, aurora: { securityGroupId: REDIS_SG } })).not.toThrow();
  });

  it('rejects a port outside 1-65535', () => {
    expect(error({ ...BASE, redis: { securityGroupId: REDIS_SG, port: 0 } })).toBe(
      'WorkerNetwork propertyfeed-staging:\n  network.redis.port: 0 is not a TCP port (1-65535)',
    );
  });
});
