"""EC2 in moto 5.2.5, patched for the deploy rehearsal: the network's ids, and its security group rules."""

import threading


def patch_custom_ids():
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
    return "EC2 CreateVpc, CreateSubnet and CreateSecurityGroup take the id of a `_custom_id_` tag, as moto's other services do"


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
    return "EC2 DescribeSecurityGroupRules returns the description of rules that reference a security group or a prefix list"
