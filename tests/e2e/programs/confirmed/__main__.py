"""One BuildRelease whose ids and per-resource confirmation inputs come from the stack config."""

import pulumi

from streampixel_pulumi.resource import BuildRelease

config = pulumi.Config()
release = BuildRelease(
    "release",
    project_id=config.require("projectId"),
    upload_id=config.require("uploadId"),
    confirm=config.get_bool("confirm"),
    confirm_deadline_seconds=config.get_float("confirmDeadlineSeconds"),
)
pulumi.export("status", release.status)
