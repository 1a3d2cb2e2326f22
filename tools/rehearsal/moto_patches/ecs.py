"""ECS in moto 5.2.5, patched for the deploy rehearsal: the lanes' services."""


def patch_service_settings():
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
    return ("ECS CreateService/UpdateService keep and return capacityProviderStrategy, deploymentConfiguration, "
            "enableECSManagedTags, enableExecuteCommand, healthCheckGracePeriodSeconds (moto drops them)")
