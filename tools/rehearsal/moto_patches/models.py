"""botocore's service models, by the name a request signs with: what the call log and the
CloudWatch protocol bridge read an operation's shape and protocol from."""

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
