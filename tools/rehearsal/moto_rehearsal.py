"""Moto for the deploy rehearsal (tools/rehearsal/rehearse.sh), on 127.0.0.1 only.

  serve --ready FILE [--log FILE] [--calls FILE]
                                    start moto on a free loopback port; write
                                    {"endpoint", "port", "pid"} to FILE when it answers;
                                    with --calls, one JSON line per AWS call: the caller
                                    (the access key id it signed with), the signing
                                    service and the API operation
  seed --endpoint URL --region R --bucket B --subnets N
                                    create what the environment file points at (a VPC,
                                    N private subnets, the Redis and Aurora security
                                    groups) and the state bucket; print their ids as JSON
  inspect --endpoint URL --region R --cluster C --service S --alarm-prefix P
          --parameter NAME --log-group NAME ...
                                    print as JSON what moto holds of one lane: its
                                    service, its alarms, a parameter, which log groups exist
  scale --endpoint URL --region R --cluster C --service S --count N
                                    set a service's desired count through ECS, the way
                                    the backlog controller does
  secrets --endpoint URL --region R --bucket B --state-key K --placeholder P
          --parameter NAME ... [--put]
                                    put (--put) each SecureString's value out of band, then
                                    print each value and which secret strings the state holds

The server dies with its parent (PR_SET_PDEATHSIG) so a killed rehearsal leaves
no moto behind. An API moto lacks answers 501 NotImplemented with the operation's
name, at once (no retry loop, no hang), and is listed in the --log file, which the
rehearsal report quotes. Patches for APIs moto lacks are in the moto_patches package
beside this file, one module per AWS service, and listed in the report too.
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import threading

ACCOUNT_ID = os.environ.setdefault("MOTO_ACCOUNT_ID", "123456789012")
# Seeded resources and the provider use fake credentials; never any real ones.
for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(variable, None)
os.environ["AWS_ACCESS_KEY_ID"] = "rehearsal"
os.environ["AWS_SECRET_ACCESS_KEY"] = "rehearsal"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

from moto_patches import patch_moto  # noqa: E402 - after the environment above
from moto_patches.calls import CallRecorder  # noqa: E402
from moto_patches.cloudwatch import SmithyRpcV2Cbor  # noqa: E402
from moto_patches.serving import OneAtATime, backend_app_factory, die_with_parent  # noqa: E402


def serve(args):
    die_with_parent()
    import moto
    from moto.server import DomainDispatcherApplication
    from werkzeug.serving import make_server

    patches = patch_moto()
    app = CallRecorder(OneAtATime(SmithyRpcV2Cbor(DomainDispatcherApplication(backend_app_factory(args.log)))), args.calls, ACCOUNT_ID)
    patches.append("requests are answered one at a time: moto's backends are not thread-safe under the provider's parallel calls")
    patches.append("Smithy RPC v2 CBOR requests (the Go SDK's CloudWatch protocol) are translated to moto's query/JSON "
                   "protocol and answered in CBOR")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    ready = {"endpoint": f"http://127.0.0.1:{port}", "port": port, "pid": os.getpid(), "accountId": ACCOUNT_ID,
             "motoVersion": moto.__version__, "patches": patches}
    with open(args.ready + ".tmp", "w", encoding="utf-8") as out:
        json.dump(ready, out)
    os.replace(args.ready + ".tmp", args.ready)
    print(f"moto: serving {ready['endpoint']} (pid {ready['pid']})", flush=True)
    server.serve_forever()
    print("moto: stopped", flush=True)


def moto_client(args, service):
    """A boto3 client of `service` on the moto server the command was pointed at."""
    import boto3

    return boto3.client(service, endpoint_url=args.endpoint, region_name=args.region)


def seed(args):
    """The network, and the state bucket and its key. With --vpc-id and the others, the
    resources take the environment file's own ids (the `_custom_id_` tag, patch_ec2_custom_ids)."""
    def client(service):
        return moto_client(args, service)

    def named(resource, wanted):
        tags = [{"Key": "_custom_id_", "Value": wanted}] if wanted else []
        return {"TagSpecifications": [{"ResourceType": resource, "Tags": tags}]} if tags else {}

    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16", **named("vpc", args.vpc_id))["Vpc"]["VpcId"]
    zones = [zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]]
    subnet_ids = args.subnet_id or [None] * args.subnets
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{index}.0/24", AvailabilityZone=zones[index % len(zones)],
                          **named("subnet", wanted))["Subnet"]["SubnetId"]
        for index, wanted in enumerate(subnet_ids)
    ]

    def group(name, description, wanted):
        return ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc,
                                         **named("security-group", wanted))["GroupId"]

    redis = group("rehearsal-redis", "Stands in for the ElastiCache Redis security group", args.redis_security_group_id)
    aurora = group("rehearsal-aurora", "Stands in for the Aurora security group", args.aurora_security_group_id)
    # network.httpsEgress's destinations: security groups and managed prefix lists of the VPC.
    egress_groups = [
        group(f"rehearsal-egress-{index}", "Stands in for an HTTPS egress destination", None)
        for index in range(args.egress_security_groups)
    ]
    egress_lists = [
        ec2.create_managed_prefix_list(PrefixListName=f"rehearsal-egress-{index}", MaxEntries=1, AddressFamily="IPv4",
                                       Entries=[{"Cidr": f"10.43.{index}.0/24"}])["PrefixList"]["PrefixListId"]
        for index in range(args.egress_prefix_lists)
    ]
    s3 = client("s3")
    if args.region == "us-east-1":
        s3.create_bucket(Bucket=args.bucket)
    else:
        s3.create_bucket(Bucket=args.bucket, CreateBucketConfiguration={"LocationConstraint": args.region})
    s3.put_bucket_versioning(Bucket=args.bucket, VersioningConfiguration={"Status": "Enabled"})
    kms = client("kms")
    kms.create_alias(AliasName=args.state_key_alias, TargetKeyId=kms.create_key(Description="rehearsal state")["KeyMetadata"]["KeyId"])
    json.dump(
        {"vpcId": vpc, "privateSubnetIds": subnets, "redisSecurityGroupId": redis, "auroraSecurityGroupId": aurora,
         "httpsEgressSecurityGroupIds": egress_groups, "httpsEgressPrefixListIds": egress_lists},
        sys.stdout,
    )
    sys.stdout.write("\n")


def inspect(args):
    def client(service):
        return moto_client(args, service)

    services = client("ecs").describe_services(cluster=args.cluster, services=[args.service]).get("services", [])
    service = next((s for s in services if s.get("status") != "INACTIVE"), None)
    alarms = []
    for page in client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=args.alarm_prefix):
        alarms += [{"name": a["AlarmName"], "actionsEnabled": a.get("ActionsEnabled")} for a in page["MetricAlarms"]]
    try:
        parameter = client("ssm").get_parameter(Name=args.parameter)["Parameter"]["Value"]
    except client("ssm").exceptions.ParameterNotFound:
        parameter = None
    logs = client("logs")
    groups = [
        name
        for name in args.log_group
        if any(g["logGroupName"] == name for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"])
    ]
    json.dump(
        {
            "service": None
            if service is None
            else {"status": service["status"], "desiredCount": service["desiredCount"], "taskDefinition": service["taskDefinition"]},
            "alarms": alarms,
            "parameter": parameter,
            "logGroups": groups,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


def scale(args):
    ecs = moto_client(args, "ecs")
    service = ecs.update_service(cluster=args.cluster, service=args.service, desiredCount=args.count)["service"]
    json.dump({"desiredCount": service["desiredCount"]}, sys.stdout)
    sys.stdout.write("\n")


def rehearsal_secret(name):
    """The value the rehearsal puts out of band for a secret: the real value, as far as Terraform knows."""
    return "rehearsal-secret-" + hashlib.sha256(name.encode()).hexdigest()[:16]


def secrets(args):
    """Puts (--put) each SecureString's real value out of band, then reports each value and which secret strings the state object holds."""
    ssm = moto_client(args, "ssm")
    if args.put:
        for name in args.parameter:
            described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
            key = described[0].get("KeyId") if described else None
            ssm.put_parameter(Name=name, Value=rehearsal_secret(name), Type="SecureString", Overwrite=True, **({"KeyId": key} if key else {}))
    values = {name: ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] for name in args.parameter}
    state = moto_client(args, "s3").get_object(Bucket=args.bucket, Key=args.state_key)["Body"].read().decode()
    secret_strings = [rehearsal_secret(name) for name in args.parameter] + [args.placeholder]
    json.dump(
        {"values": values, "expected": {name: rehearsal_secret(name) for name in args.parameter}, "inState": [v for v in secret_strings if v in state]},
        sys.stdout,
    )
    sys.stdout.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve")
    serve_parser.add_argument("--ready", required=True)
    serve_parser.add_argument("--log")
    serve_parser.add_argument("--calls")
    seed_parser = commands.add_parser("seed")
    seed_parser.add_argument("--endpoint", required=True)
    seed_parser.add_argument("--region", required=True)
    seed_parser.add_argument("--bucket", required=True)
    seed_parser.add_argument("--state-key-alias", required=True)
    seed_parser.add_argument("--subnets", type=int, default=2)
    seed_parser.add_argument("--vpc-id")
    seed_parser.add_argument("--subnet-id", action="append", default=[])
    seed_parser.add_argument("--redis-security-group-id")
    seed_parser.add_argument("--aurora-security-group-id")
    seed_parser.add_argument("--egress-security-groups", type=int, default=0)
    seed_parser.add_argument("--egress-prefix-lists", type=int, default=0)
    inspect_parser = commands.add_parser("inspect")
    for option in ("--endpoint", "--region", "--cluster", "--service", "--alarm-prefix", "--parameter"):
        inspect_parser.add_argument(option, required=True)
    inspect_parser.add_argument("--log-group", action="append", default=[])
    scale_parser = commands.add_parser("scale")
    for option in ("--endpoint", "--region", "--cluster", "--service"):
        scale_parser.add_argument(option, required=True)
    scale_parser.add_argument("--count", type=int, required=True)
    secrets_parser = commands.add_parser("secrets")
    for option in ("--endpoint", "--region", "--bucket", "--state-key", "--placeholder"):
        secrets_parser.add_argument(option, required=True)
    secrets_parser.add_argument("--parameter", action="append", default=[])
    secrets_parser.add_argument("--put", action="store_true")
    args = parser.parse_args()
    if args.command != "serve" and not args.endpoint.startswith("http://127."):
        parser.error("--endpoint must be a loopback address")
    {"serve": serve, "seed": seed, "inspect": inspect, "scale": scale, "secrets": secrets}[args.command](args)


if __name__ == "__main__":
    main()
