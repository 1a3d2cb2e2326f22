/** A synthesized stack, as far as security-group ingress goes. */
interface SynthesizedResources {
  readonly resource?: Record<string, Record<string, Record<string, unknown>> | undefined>;
}

const INTERNET = new Set(['0.0.0.0/0', '::/0']);

function isOpen(values: unknown): boolean {
  return [values].flat().some((v) => typeof v === 'string' && INTERNET.has(v));
}

/**
 * Every ingress in a synthesized stack (the JSON of `Testing.synth` or a
 * cdk.tf.json) that is open to 0.0.0.0/0 or ::/0, in any of the three forms
 * Terraform can express it, as `<type>.<logical id>`. For tests: the stacks of
 * every environment must return none.
 */
export function openIngress(synthesizedJson: string): string[] {
  const resources = (JSON.parse(synthesizedJson) as SynthesizedResources).resource ?? {};
  const found: string[] = [];
  for (const [id, rule] of Object.entries(resources.aws_vpc_security_group_ingress_rule ?? {})) {
    if (isOpen(rule.cidr_ipv4) || isOpen(rule.cidr_ipv6)) found.push(`aws_vpc_security_group_ingress_rule.${id}`);
  }
  for (const [id, rule] of Object.entries(resources.aws_security_group_rule ?? {})) {
    if (rule.type === 'ingress' && (isOpen(rule.cidr_blocks) || isOpen(rule.ipv6_cidr_blocks))) {
      found.push(`aws_security_group_rule.${id}`);
    }
  }
  for (const [id, group] of Object.entries(resources.aws_security_group ?? {})) {
    const blocks = [group.ingress ?? []].flat() as Array<Record<string, unknown>>;
    if (blocks.some((b) => isOpen(b.cidr_blocks) || isOpen(b.ipv6_cidr_blocks))) found.push(`aws_security_group.${id}`);
  }
  return found;
}
