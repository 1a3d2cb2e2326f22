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

The server dies with its parent (PR_SET_PDEATHSIG) so a killed rehearsal leaves
no moto behind. An API moto lacks answers 501 NotImplemented with the operation's
name, at once (no retry loop, no hang), and is listed in the --log file, which the
rehearsal report quotes. Patches for APIs moto lacks are applied in `patch_moto`
and listed in the report too.
"""

import argparse
import ctypes
import datetime
import io
import hashlib
import json
import os
import re
import signal
import struct
import sys
import threading
import urllib.parse

ACCOUNT_ID = os.environ.setdefault("MOTO_ACCOUNT_ID", "123456789012")
# Seeded resources and the provider use fake credentials; never any real ones.
for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(variable, None)
os.environ["AWS_ACCESS_KEY_ID"] = "rehearsal"
os.environ["AWS_SECRET_ACCESS_KEY"] = "rehearsal"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

# What patch_moto changed, for the report: one line per patch.
PATCHES = []


def die_with_parent():
    """Ask the kernel to SIGTERM this process when the rehearsal that started it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        sys.exit(0)


def patch_moto():
    """Fill in what moto 5.2.5 lacks that the stacks use. Each patch says what and why."""
    patch_ecs_service_settings()
    patch_security_group_rule_descriptions()
    patch_lambda_function_settings()
    patch_ec2_custom_ids()
    patch_application_autoscaling_tags()
    patch_sqs_queue_attributes()


def patch_sqs_queue_attributes():
    """SQS in moto 5.2.5 drops a queue's Policy whenever SetQueueAttributes sets anything
    else, and never returns RedriveAllowPolicy; the provider waits for each attribute it
    set to read back (an SQS lane's queue and its dead-letter queue) and never sees it.
    Keep the policy unless the call sets it, and return RedriveAllowPolicy, as SQS does."""
    from moto.sqs.models import Queue

    original_set = Queue._set_attributes
    original_attributes = Queue.attributes

    def set_attributes(self, attributes, now=None):
        policy = getattr(self, "policy", None)
        original_set(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = policy

    def attributes(self):
        result = original_attributes.fget(self)
        # SQS returns the redrive policy as compact JSON; moto's spaces read as a change to the provider.
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        if getattr(self, "redrive_allow_policy", None):
            result["RedriveAllowPolicy"] = self.redrive_allow_policy
        return result

    from moto.sqs.models import SQSBackend

    original_get = SQSBackend.get_queue_attributes

    def get_queue_attributes(self, queue_name, attribute_names):
        # moto refuses the name as invalid: ask for the others, then add it.
        wanted = "RedriveAllowPolicy" in (attribute_names or [])
        result = original_get(self, queue_name, [n for n in attribute_names or [] if n != "RedriveAllowPolicy"] or (["QueueArn"] if wanted else []))
        if wanted and not [n for n in attribute_names if n != "RedriveAllowPolicy"]:
            result = {}
        allowed = getattr(self.get_queue(queue_name), "redrive_allow_policy", None)
        if allowed and (wanted or "All" in (attribute_names or [])):
            result["RedriveAllowPolicy"] = allowed
        return result

    Queue._set_attributes = set_attributes
    Queue.attributes = property(attributes)
    SQSBackend.get_queue_attributes = get_queue_attributes
    PATCHES.append("SQS keeps a queue's Policy when SetQueueAttributes sets something else, returns RedriveAllowPolicy, and the redrive policy as compact JSON")


def patch_application_autoscaling_tags():
    """Application Auto Scaling in moto 5.2.5 has no ListTagsForResource, TagResource or
    UntagResource, and the provider reads a scalable target's tags after creating it (an
    SQS lane's), retrying the 501 until it gives up. Keep the tags the caller sets, by
    resource ARN, and return them, as the service does; RegisterScalableTarget's Tags too."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    tags = {}
    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self):
        answer = original_register(self)
        arn = json.loads(answer or "{}").get("ScalableTargetARN")
        if arn and self._get_param("Tags"):
            tags.setdefault(arn, {}).update(self._get_param("Tags"))
        return answer

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags.get(self._get_param("ResourceARN"), {})})

    def tag_resource(self):
        tags.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        kept = tags.get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            kept.pop(key, None)
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    PATCHES.append("Application Auto Scaling keeps and returns the tags of scalable targets (ListTagsForResource, TagResource, UntagResource)")


def patch_ec2_custom_ids():
    """moto's other services take a resource's id from its `_custom_id_` tag
    (moto.utilities.id_generator); EC2 in 5.2.5 ignores it. Honour it for VPCs,
    subnets and security groups, so the rehearsal can create the network with the
    ids the environment file names and deploy the app's own, unedited stacks."""
    from moto.ec2.models import security_groups, subnets, vpcs
    from moto.utilities.id_generator import TAG_KEY_CUSTOM_ID

    def custom_id(tags):
        if isinstance(tags, dict):
            if isinstance(tags.get(TAG_KEY_CUSTOM_ID), str):
                return tags[TAG_KEY_CUSTOM_ID]
            return next((found for value in tags.values() if (found := custom_id(value))), None)
        if isinstance(tags, list):
            for tag in tags:
                if isinstance(tag, dict) and tag.get("Key") == TAG_KEY_CUSTOM_ID:
                    return tag.get("Value")
        return None

    for module, generator, backend, method in (
        (vpcs, "random_vpc_id", vpcs.VPCBackend, "create_vpc"),
        (subnets, "random_subnet_id", subnets.SubnetBackend, "create_subnet"),
        (security_groups, "random_security_group_id", security_groups.SecurityGroupBackend, "create_security_group"),
    ):
        generate = getattr(module, generator)
        create = getattr(backend, method)
        requested = threading.local()
        setattr(module, generator, lambda generate=generate, requested=requested: getattr(requested, "id", None) or generate())

        def with_custom_id(self, *args, create=create, requested=requested, **kwargs):
            requested.id = custom_id(kwargs.get("tags"))
            try:
                return create(self, *args, **kwargs)
            finally:
                requested.id = None

        setattr(backend, method, with_custom_id)
    PATCHES.append("EC2 CreateVpc, CreateSubnet and CreateSecurityGroup take the id of a `_custom_id_` tag, as moto's other services do")


def patch_security_group_rule_descriptions():
    """DescribeSecurityGroupRules returns the description of CIDR rules only; a rule
    that references another security group loses it, and the provider plans to set
    it again. Return the description the caller gave, as EC2 does."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    original_init = SecurityGroupRule.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # A prefix-list rule's description arrives with its prefix list entry, which moto keeps only the id of.
        prefix_list = args[7] if len(args) > 7 else kwargs.get("prefix_list_id")
        self.rehearsal_prefix_list_description = prefix_list.get("Description") if isinstance(prefix_list, dict) else None

    SecurityGroupRule.__init__ = init
    SecurityGroupRule.description = property(
        lambda rule: rule.ip_range.get("Description")
        or (rule.source_group or {}).get("Description")
        or getattr(rule, "rehearsal_prefix_list_description", None)
    )
    PATCHES.append("EC2 DescribeSecurityGroupRules returns the description of rules that reference a security group or a prefix list")


def patch_lambda_function_settings():
    """Lambda CreateFunction/UpdateFunctionConfiguration drop DeadLetterConfig and
    LoggingConfig, so GetFunction never returns them and the provider plans to set
    them again. Keep them and return them, as Lambda does."""
    from moto.awslambda.models import LambdaFunction

    kept = ("DeadLetterConfig", "LoggingConfig")
    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def init(self, account_id, spec, region, version=1):
        original_init(self, account_id, spec, region, version)
        self.rehearsal_kept = {key: spec[key] for key in kept if spec.get(key)}

    def update_configuration(self, config_updates):
        for key in kept:
            if key in config_updates:
                self.rehearsal_kept[key] = config_updates[key]
        return original_update(self, config_updates)

    def get_configuration(self, *args, **kwargs):
        config = original_get(self, *args, **kwargs)
        config.update(getattr(self, "rehearsal_kept", {}))
        return config

    LambdaFunction.__init__ = init
    LambdaFunction.update_configuration = update_configuration
    LambdaFunction.get_configuration = get_configuration
    PATCHES.append("Lambda keeps and returns DeadLetterConfig and LoggingConfig")


def patch_ecs_service_settings():
    """moto's CreateService/UpdateService drop the capacity provider strategy, the
    deployment configuration, managed tags and ECS Exec, and call every service
    without a launch type "EC2". The provider reads them back, sees them gone, and
    plans a change (for the strategy: one it refuses without force_new_deployment).
    Keep what the caller sent and return it, as ECS does."""
    from botocore import xform_name
    from moto.ecs.responses import EC2ContainerServiceResponse

    settings = (
        "capacityProviderStrategy",
        "deploymentConfiguration",
        "enableECSManagedTags",
        "enableExecuteCommand",
        "healthCheckGracePeriodSeconds",
        "availabilityZoneRebalancing",
    )

    def remember(response, service):
        for key in settings:
            value = response._get_param(key)
            if value is not None:
                setattr(service, xform_name(key), value)
        if response._get_param("capacityProviderStrategy") and not response._get_param("launchType"):
            service.launch_type = None
            for deployment in service.deployments:
                deployment.pop("launchType", None)
                deployment["capacityProviderStrategy"] = service.capacity_provider_strategy

    for operation in ("create_service", "update_service"):
        original = getattr(EC2ContainerServiceResponse, operation)

        def patched(self, _original=original):
            result = _original(self)
            remember(self, result.result["service"])
            return result

        setattr(EC2ContainerServiceResponse, operation, patched)
    PATCHES.append("ECS CreateService/UpdateService keep and return capacityProviderStrategy, deploymentConfiguration, "
                   "enableECSManagedTags, enableExecuteCommand, healthCheckGracePeriodSeconds (moto drops them)")


_MODELS = {}


def service_model(signing_name):
    """botocore's model of the service that signs as `signing_name`, or None."""
    import botocore.session

    if signing_name not in _MODELS:
        session = botocore.session.get_session()
        found = None
        for name in [signing_name, *session.get_available_services()]:
            try:
                model = session.get_service_model(name)
            except Exception:  # noqa: BLE001 - not a service name
                continue
            if signing_name in (model.signing_name, model.endpoint_prefix, model.service_name):
                found = model
                break
        _MODELS[signing_name] = found
    return _MODELS[signing_name]


def rest_operation(model, method, path, query):
    """The operation of a REST call: the one whose method and URI template match,
    the most specific (most literal characters) when several do."""
    best, score = None, -1
    for name in model.operation_names:
        http = model.operation_model(name).http
        if http.get("method") != method:
            continue
        template, _, required = http.get("requestUri", "/").partition("?")
        pattern = "".join(
            ".+" if part.endswith("+}") else "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        if not re.fullmatch(pattern.rstrip("/") + "/?", path):
            continue
        if any(key.split("=")[0] not in query for key in required.split("&") if key):
            continue
        literal = len(re.sub(r"\{[^}]+\}", "", template)) + len(required)
        if literal > score:
            best, score = name, literal
    return best


class CallRecorder:
    """WSGI middleware: one JSON line per signed AWS call, so the rehearsal can
    compare what each stack's provider called with its deploy policy. The caller is
    the access key id of the signature (the rehearsal gives each stack its own)."""

    CBOR_PATH = re.compile(r"^/service/[^/]+/operation/(?P<operation>[^/]+)$")

    def __init__(self, app, path):
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        scope = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        if self.path and scope:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            path = urllib.parse.unquote(environ.get("PATH_INFO", ""))
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            operation = None
            cbor = self.CBOR_PATH.match(path)
            if cbor:
                operation = cbor.group("operation")
            elif environ.get("HTTP_X_AMZ_TARGET"):
                operation = environ["HTTP_X_AMZ_TARGET"].rsplit(".", 1)[-1]
            elif "Action" in query:
                operation = query["Action"][0]
            elif environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                operation = (urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action") or [None])[0]
            if operation is None:
                model = service_model(scope.group(2))
                if model is not None:
                    operation = rest_operation(model, environ.get("REQUEST_METHOD", ""), path, query)
            line = {"caller": scope.group(1), "service": scope.group(2),
                    "operation": operation or f"{environ.get('REQUEST_METHOD')} {path}"}
            headers = {}

            def capture(status, response_headers, exc_info=None):
                headers.update((name.lower(), value) for name, value in response_headers)
                return start_response(status, response_headers, exc_info)

            result = self.app(environ, capture)
            lines = [line, *self.kms_for_s3(line, environ, headers, scope.group(1))]
            with self.lock, open(self.path, "a", encoding="utf-8") as out:
                out.writelines(json.dumps(entry) + "\n" for entry in lines)
            return result
        return self.app(environ, start_response)

    @staticmethod
    def kms_for_s3(line, environ, response_headers, caller):
        """The KMS call S3 makes on the caller's behalf for an SSE-KMS object, which moto's S3
        never makes: GenerateDataKey to write one, Decrypt to read one (S3's "Using server-side
        encryption with AWS KMS keys"). IAM authorises it on the key's ARN, with the key's aliases
        as kms:ResourceAliases, so the line names both, from moto's own KMS."""
        # By method, not by the operation name: a PUT or GET of an object is told from its
        # neighbours (CopyObject, PutObjectAcl) by headers and query, which the log's name ignores.
        method = environ.get("REQUEST_METHOD")
        if line["service"] != "s3" or method not in ("PUT", "GET"):
            return []
        if method == "PUT":
            key_id = environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID")
        else:
            key_id = response_headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        region = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        if not key_id or not region:
            return []
        from moto.kms.models import kms_backends

        try:
            key = kms_backends[ACCOUNT_ID][region.group(1)].describe_key(key_id)
        except Exception:  # noqa: BLE001 - a key moto does not hold: S3 would have refused the call
            return []
        operation = "GenerateDataKey" if method == "PUT" else "Decrypt"
        return [{"caller": caller, "service": "kms", "operation": operation, "via": "s3",
                 "resource": key.arn, "aliases": sorted(key.aliases)}]


class OneAtATime:
    """WSGI middleware: moto's backends are not thread-safe (SSM DescribeParameters
    iterates the parameters a concurrent PutParameter is adding, and fails with a
    500), and the provider sends up to ten requests at once; answer one at a time."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


class SmithyRpcV2Cbor:
    """WSGI middleware: the AWS SDK for Go v2 (and so the provider) calls CloudWatch in
    the Smithy RPC v2 CBOR protocol (POST /service/<Service>/operation/<Operation>,
    CBOR bodies), which moto does not speak. Translate each call to the protocol moto
    does speak for that service (query or JSON, from botocore's model), and the answer
    back to CBOR."""

    PATH = re.compile(r"^/service/(?P<service>[^/]+)/operation/(?P<operation>[^/]+)$")

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        match = self.PATH.match(environ.get("PATH_INFO", ""))
        if not match or environ.get("HTTP_SMITHY_PROTOCOL", "").lower() != "rpc-v2-cbor":
            return self.app(environ, start_response)
        scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        model = service_model(scope.group(1)) if scope else None
        if model is None or model.protocol not in ("query", "json"):
            return self.reply(start_response, 501, {"__type": "NotImplemented", "message": f"rpc-v2-cbor bridge: no query/json model for {match.group('service')}"})
        operation = model.operation_model(match.group("operation"))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        params = cbor_decode(raw) if raw else {}
        inner = dict(environ)
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        inner["PATH_INFO"] = "/"
        if model.protocol == "query":
            from botocore.serialize import QuerySerializer

            body = urllib.parse.urlencode(QuerySerializer().serialize_to_request(params, operation)["body"]).encode()
            inner["CONTENT_TYPE"] = "application/x-www-form-urlencoded; charset=utf-8"
        else:
            from botocore.serialize import JSONSerializer

            request = JSONSerializer().serialize_to_request(params, operation)
            body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
            inner["CONTENT_TYPE"] = request["headers"]["Content-Type"]
            inner["HTTP_X_AMZ_TARGET"] = request["headers"]["X-Amz-Target"]
        inner["CONTENT_LENGTH"] = str(len(body))
        inner["wsgi.input"] = io.BytesIO(body)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = dict(headers)
            return lambda data: None

        answer = b"".join(self.app(inner, capture))
        from botocore.parsers import JSONParser, QueryParser

        parser = QueryParser() if model.protocol == "query" else JSONParser()
        shape = operation.output_shape if captured["status"] < 400 else None
        parsed = parser.parse({"body": answer, "headers": captured["headers"], "status_code": captured["status"]}, shape)
        parsed.pop("ResponseMetadata", None)
        if captured["status"] >= 400:
            error = parsed.get("Error", {})
            return self.reply(start_response, captured["status"], {"__type": error.get("Code", "InternalFailure"), "message": error.get("Message", "")})
        return self.reply(start_response, captured["status"], parsed)

    @staticmethod
    def reply(start_response, status, value):
        body = cbor_encode(value)
        start_response(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"), ("Content-Length", str(len(body)))],
        )
        return [body]


def cbor_decode(data):
    """Decodes one CBOR item (RFC 8949): what Smithy RPC v2 requests use."""
    value, _ = _cbor_item(memoryview(data), 0)
    return value


def _cbor_length(data, offset, info):
    if info < 24:
        return info, offset
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None:
        return None, offset  # indefinite length
    return int.from_bytes(data[offset : offset + size], "big"), offset + size


def _cbor_item(data, offset):
    initial = data[offset]
    offset += 1
    major, info = initial >> 5, initial & 0x1F
    if major == 7:
        if info == 20:
            return False, offset
        if info == 21:
            return True, offset
        if info in (22, 23):
            return None, offset
        if info == 25:
            return struct.unpack(">e", data[offset : offset + 2])[0], offset + 2
        if info == 26:
            return struct.unpack(">f", data[offset : offset + 4])[0], offset + 4
        if info == 27:
            return struct.unpack(">d", data[offset : offset + 8])[0], offset + 8
        raise ValueError(f"unsupported CBOR simple value {info}")
    length, offset = _cbor_length(data, offset, info)
    if major == 0:
        return length, offset
    if major == 1:
        return -1 - length, offset
    if major in (2, 3):
        if length is None:
            chunks = []
            while data[offset] != 0xFF:
                chunk, offset = _cbor_item(data, offset)
                chunks.append(chunk)
            joined = (b"" if major == 2 else "").join(chunks)
            return joined, offset + 1
        raw = bytes(data[offset : offset + length])
        return (raw if major == 2 else raw.decode("utf-8")), offset + length
    if major == 4:
        items = []
        while (length is None and data[offset] != 0xFF) or (length is not None and len(items) < length):
            item, offset = _cbor_item(data, offset)
            items.append(item)
        return items, offset + (1 if length is None else 0)
    if major == 5:
        result = {}
        while (length is None and data[offset] != 0xFF) or (length is not None and len(result) < length):
            key, offset = _cbor_item(data, offset)
            result[key], offset = _cbor_item(data, offset)
        return result, offset + (1 if length is None else 0)
    if major == 6:
        value, offset = _cbor_item(data, offset)
        if length == 1:  # epoch-based date/time
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc), offset
        return value, offset
    raise ValueError(f"unsupported CBOR major type {major}")


def cbor_encode(value):
    """Encodes a botocore-parsed value as CBOR, timestamps as tag 1 (Smithy RPC v2)."""
    out = bytearray()
    _cbor_put(out, value)
    return bytes(out)


def _cbor_head(out, major, length):
    if length < 24:
        out.append(major << 5 | length)
    elif length < 0x100:
        out += bytes([major << 5 | 24, length])
    elif length < 0x10000:
        out += bytes([major << 5 | 25]) + length.to_bytes(2, "big")
    elif length < 0x100000000:
        out += bytes([major << 5 | 26]) + length.to_bytes(4, "big")
    else:
        out += bytes([major << 5 | 27]) + length.to_bytes(8, "big")


def _cbor_put(out, value):
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        _cbor_head(out, 0, value) if value >= 0 else _cbor_head(out, 1, -1 - value)
    elif isinstance(value, float):
        out += b"\xfb" + struct.pack(">d", value)
    elif isinstance(value, datetime.datetime):
        out.append(0xC1)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        _cbor_put(out, value.timestamp())
    elif isinstance(value, (bytes, bytearray)):
        _cbor_head(out, 2, len(value))
        out += value
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _cbor_head(out, 3, len(raw))
        out += raw
    elif isinstance(value, (list, tuple)):
        _cbor_head(out, 4, len(value))
        for item in value:
            _cbor_put(out, item)
    elif isinstance(value, dict):
        _cbor_head(out, 5, len(value))
        for key, item in value.items():
            _cbor_put(out, key)
            _cbor_put(out, item)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


def backend_app_factory(log):
    """moto's per-service Flask app, with NotImplementedError (an action moto lacks)
    answered 501 NotImplemented naming the action, at once, instead of a 500 that the
    AWS SDKs retry; each one is logged for the report."""
    from flask import request
    from moto.server import create_backend_app

    lock = threading.Lock()

    def create_app(service):
        app = create_backend_app(service)

        @app.errorhandler(NotImplementedError)
        def not_implemented(error):
            action = request.headers.get("X-Amz-Target") or request.values.get("Action") or f"{request.method} {request.path}"
            message = f"moto does not implement {service}: {action} ({error})"
            if log:
                with lock, open(log, "a", encoding="utf-8") as out:
                    out.write(message + "\n")
            return error_response(service, message)

        return app

    return create_app


def error_response(service, message):
    """A NotImplemented error in the protocol the caller speaks, so its SDK shows the message."""
    from flask import request
    from xml.sax.saxutils import escape

    headers = {"x-amzn-ErrorType": "NotImplemented"}
    content_type = request.headers.get("Content-Type", "")
    if "X-Amz-Target" in request.headers or "json" in content_type:
        return json.dumps({"__type": "NotImplemented", "message": message}), 501, {**headers, "Content-Type": "application/x-amz-json-1.1"}
    error = f"<Code>NotImplemented</Code><Message>{escape(message)}</Message>"
    if service == "ec2":
        body = f"<Response><Errors><Error>{error}</Error></Errors><RequestID>rehearsal</RequestID></Response>"
    elif "Action" in request.values:
        body = f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error><RequestId>rehearsal</RequestId></ErrorResponse>"
    elif service in ("s3", "route53", "cloudfront"):
        body = f"<Error>{error}</Error>"
    else:  # REST-JSON services (lambda, scheduler, logs' REST side, ...)
        return json.dumps({"message": message}), 501, {**headers, "Content-Type": "application/json"}
    return body, 501, {**headers, "Content-Type": "text/xml"}


def serve(args):
    die_with_parent()
    import moto
    from moto.server import DomainDispatcherApplication
    from werkzeug.serving import make_server

    patch_moto()
    app = CallRecorder(OneAtATime(SmithyRpcV2Cbor(DomainDispatcherApplication(backend_app_factory(args.log)))), args.calls)
    PATCHES.append("requests are answered one at a time: moto's backends are not thread-safe under the provider's parallel calls")
    PATCHES.append("Smithy RPC v2 CBOR requests (the Go SDK's CloudWatch protocol) are translated to moto's query/JSON "
                   "protocol and answered in CBOR")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    ready = {"endpoint": f"http://127.0.0.1:{port}", "port": port, "pid": os.getpid(), "accountId": ACCOUNT_ID,
             "motoVersion": moto.__version__, "patches": PATCHES}
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
