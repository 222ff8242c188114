"""Quickstart: keep one Streampixel project streaming the upload named in stack config.

The only value a release changes is ``uploadId`` in ``Pulumi.<stack>.yaml``: a release pull
request edits that line, ``pulumi preview`` shows ``upload_id: old => new`` and ``pulumi up``
distributes the new upload. ``git revert`` of that commit puts the old id back, and the next
``pulumi up`` distributes the old upload again: a rollback.
"""

import pulumi

from streampixel_pulumi import BuildRelease

config = pulumi.Config()

release = BuildRelease(
    "game",
    project_id=config.require("projectId"),
    upload_id=config.require("uploadId"),
)

pulumi.export("project_id", release.project_id)
pulumi.export("upload_id", release.upload_id)
pulumi.export("previous_upload_id", release.previous_upload_id)
pulumi.export("region", release.region)
pulumi.export("status", release.status)
pulumi.export("action", release.action)
pulumi.export("triggered_at", release.triggered_at)
pulumi.export("message", release.message)
pulumi.export("history", release.history)
