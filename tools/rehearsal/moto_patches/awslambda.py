"""Lambda in moto 5.2.5, patched for the deploy rehearsal: the backlog controller's function."""


def patch_function_settings():
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
    return "Lambda keeps and returns DeadLetterConfig and LoggingConfig"
