"""SQS in moto 5.2.5, patched for the deploy rehearsal: an SQS lane's queue and its dead-letter queue."""

import json


def patch_queue_attributes():
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
    return "SQS keeps a queue's Policy when SetQueueAttributes sets something else, returns RedriveAllowPolicy, and the redrive policy as compact JSON"
