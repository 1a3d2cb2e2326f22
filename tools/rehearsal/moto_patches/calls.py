"""The call log of the deploy rehearsal: one JSON line per signed AWS call, so the rehearsal
can compare what each stack's provider called with its deploy policy (checks/permissions.ts)."""

import io
import json
import re
import threading
import urllib.parse

from .models import service_model


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
    the access key id of the signature (the rehearsal gives each stack its own);
    `account_id` is the account moto serves, whose KMS keys S3's calls name."""

    CBOR_PATH = re.compile(r"^/service/[^/]+/operation/(?P<operation>[^/]+)$")

    def __init__(self, app, path, account_id):
        self.app = app
        self.path = path
        self.account_id = account_id
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

    def kms_for_s3(self, line, environ, response_headers, caller):
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
            key = kms_backends[self.account_id][region.group(1)].describe_key(key_id)
        except Exception:  # noqa: BLE001 - a key moto does not hold: S3 would have refused the call
            return []
        operation = "GenerateDataKey" if method == "PUT" else "Decrypt"
        return [{"caller": caller, "service": "kms", "operation": operation, "via": "s3",
                 "resource": key.arn, "aliases": sorted(key.aliases)}]
