"""Several Streampixel projects of one user, released by one ``pulumi up``.

Stack config ``releases`` maps a short name to a project and the upload it should stream.
Each entry becomes one BuildRelease. Pulumi creates and updates them in parallel; the
provider spaces the distribute-file calls of the user to respect Streampixel's rate limit
(one call per user per ``streampixel:rateLimitSeconds``), so a release of N projects takes
about N-1 such intervals and never fails with a 429.
"""

from typing import Any

import pulumi

from streampixel_pulumi import BuildRelease

config = pulumi.Config()
wanted: dict[str, Any] = config.require_object("releases")

releases = {
    name: BuildRelease(
        name,
        project_id=entry["projectId"],
        upload_id=entry["uploadId"],
    )
    for name, entry in sorted(wanted.items())
}

pulumi.export(
    "releases",
    {
        name: {
            "project_id": release.project_id,
            "upload_id": release.upload_id,
            "previous_upload_id": release.previous_upload_id,
            "region": release.region,
            "status": release.status,
            "action": release.action,
            "triggered_at": release.triggered_at,
        }
        for name, release in releases.items()
    },
)
