"""What moto 5.2.5 lacks that the stacks use, for the deploy rehearsal's moto server
(moto_rehearsal.py serve): one module per AWS service, each patch saying what and why,
and the server's own middleware (calls.py, serving.py). Each patch returns its line for
the rehearsal report."""

from . import awslambda, ec2, ecs, sqs


def patch_moto():
    """Applies every service's patches to moto; one line per patch, for the report."""
    return [
        ecs.patch_service_settings(),
        ec2.patch_security_group_rule_descriptions(),
        awslambda.patch_function_settings(),
        ec2.patch_custom_ids(),
        sqs.patch_queue_attributes(),
    ]
