"""CloudWatch: the AWS SDK for Go v2 (and so the provider) calls it in the Smithy RPC v2 CBOR
protocol, which moto 5.2.5 does not speak; a WSGI middleware translates each call to the
protocol moto does speak, and the answer back, with a CBOR codec of its own (RFC 8949)."""

import datetime
import io
import re
import struct
import urllib.parse

from .models import service_model


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
