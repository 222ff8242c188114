"""One BuildRelease whose project, upload and triggers come from the stack config."""

import pulumi

from streampixel_pulumi.resource import BuildRelease

config = pulumi.Config()
release = BuildRelease(
    "release",
    project_id=config.require("projectId"),
    upload_id=config.require("uploadId"),
    triggers=config.get_object("triggers"),
    deadline_seconds=config.get_float("deadlineSeconds"),
)
pulumi.export("live_upload_id", release.upload_id)
pulumi.export("action", release.action)
