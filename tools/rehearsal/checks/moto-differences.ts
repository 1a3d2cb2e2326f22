/*
 * What the plan after apply shows against moto, each with the reason. A planned
 * change that is not listed here fails the rehearsal, so a new entry needs a reason
 * a reviewer can check. Drift entries (kind 'drift') only explain the report.
 */
import type { KnownDifference } from './plan-differences';

export const MOTO_DIFFERENCES: readonly KnownDifference[] = [
  {
    kind: 'drift',
    type: 'aws_security_group',
    path: /^(egress|ingress)\[\d+\]/,
    why:
      'The rules are separate aws_vpc_security_group_*_rule resources created after the group, so the refresh finds them in the ' +
      "group's computed ingress/egress; AWS shows the same drift, and nothing is planned for it.",
  },
  {
    kind: 'drift',
    type: 'aws_iam_role',
    path: /^inline_policy\[\d+\]/,
    why:
      "The role's policies are separate aws_iam_role_policy resources created after the role, so the refresh finds them in the " +
      "role's computed inline_policy; AWS shows the same drift, and nothing is planned for it.",
  },
  {
    kind: 'drift',
    type: 'aws_cloudwatch_metric_alarm',
    path: /^metric_query\[\d+\]\.period$/,
    why:
      'moto returns Period 0 for a metric query that has none (an expression, or a metric whose period is in metric_stat); ' +
      'AWS omits it. The provider reads 0 as unset, so nothing is planned.',
  },
];
