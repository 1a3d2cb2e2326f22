/*
 * Phase 1 of the rehearsal: the network the environment file points at, and the
 * state bucket and its KMS key, created in moto (moto_rehearsal.py seed).
 */
import { motoCommand } from './moto';
import { REHEARSAL_STATE_KEY, say, type Rehearsal, type RehearsalNetwork } from './rehearsal';

/** The network moto created for the file, or undefined (the error written) when that fails. */
export function seedNetwork(r: Rehearsal): RehearsalNetwork | undefined {
  const { target, config } = r;
  const network = motoCommand<RehearsalNetwork>(r.root, r.awsEnv, target.endpoint, target.region, 'seed', [
    ...['--bucket', target.bucket, '--state-key-alias', REHEARSAL_STATE_KEY],
    ...['--subnets', String(config.network.privateSubnetIds.length)],
    ...['--egress-security-groups', String(config.network.httpsEgress?.securityGroupIds?.length ?? 0)],
    ...['--egress-prefix-lists', String(config.network.httpsEgress?.prefixListIds?.length ?? 0)],
  ]);
  if (typeof network === 'string') {
    process.stderr.write(`rehearse: creating the network in moto failed: ${network}\n`);
    return undefined;
  }
  say(
    `moto ${r.moto.motoVersion} at ${target.endpoint}: ${network.vpcId}, ${network.privateSubnetIds.join(', ')}, redis ${network.redisSecurityGroupId}, aurora ${network.auroraSecurityGroupId}, state s3://${target.bucket}`,
  );
  return network;
}
