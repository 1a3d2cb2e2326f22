"""Application Auto Scaling in moto 5.2.5, patched for the deploy rehearsal: scalable targets' tags."""

import json


def patch_scalable_target_tags():
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
    return "Application Auto Scaling keeps and returns the tags of scalable targets (ListTagsForResource, TagResource, UntagResource)"
