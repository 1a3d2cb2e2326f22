"""How the rehearsal's moto server answers: one request at a time, an API moto lacks as a
501 NotImplemented naming it (at once, and logged for the report), and never outliving
the rehearsal that started it."""

import ctypes
import json
import os
import signal
import sys
import threading


def die_with_parent():
    """Ask the kernel to SIGTERM this process when the rehearsal that started it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        sys.exit(0)


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
