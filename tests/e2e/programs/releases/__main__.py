"""One BuildRelease per entry of the `releases` stack config list."""

import pulumi

from streampixel_pulumi.resource import BuildRelease

for item in pulumi.Config().require_object("releases"):
    BuildRelease(
        item["name"],
        project_id=item["projectId"],
        upload_id=item["uploadId"],
        triggers=item.get("triggers"),
    )
