"""BuildRelease: a Pulumi resource meaning "this upload is what project X streams".

Creating or updating it triggers one Streampixel distribution; removing it sends nothing (the
build stays live). Credentials are never inputs: the provider reads them from stack config
(``streampixel:apiKey`` secret, ``streampixel:userId``) or the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import Resource

from streampixel_pulumi.provider import BuildReleaseProvider

__all__ = ["CONFIRMATION_KEYS", "OUTPUT_KEYS", "BuildRelease", "BuildReleaseArgs"]

OUTPUT_KEYS = (
    "project_id",
    "upload_id",
    "previous_upload_id",
    "region",
    "status",
    "triggered_at",
    "action",
    "history",
    "message",
    "triggers",
    "deadline_seconds",
)

CONFIRMATION_KEYS = ("confirm", "confirm_deadline_seconds", "confirm_since", "objection")
"""Inputs and outputs of confirmed releases (see confirm.py), set only when confirmation is on."""


@dataclass
class BuildReleaseArgs:
    """The inputs of a BuildRelease.

    Args:
        project_id: the Streampixel project to release to; changing it replaces the resource.
        upload_id: the upload (build) that should be live; changing it distributes it, and
            going back to an earlier one is a rollback.
        triggers: optional JSON-like values; when any changes, the same upload is distributed
            again.
        deadline_seconds: how long a create/update may wait for rate limits and processing
            (default streampixel:deadlineSeconds, else 900).
        confirm: wait after the trigger until the webhook receiver reports the build
            distributing, live or rejected (default streampixel:confirm, else off).
        confirm_deadline_seconds: how long that wait may take (default
            streampixel:confirmDeadlineSeconds, else 900).
    """

    project_id: pulumi.Input[str]
    upload_id: pulumi.Input[str]
    triggers: pulumi.Input[Sequence[Any]] | None = None
    deadline_seconds: pulumi.Input[float] | None = None
    confirm: pulumi.Input[bool] | None = None
    confirm_deadline_seconds: pulumi.Input[float] | None = None


class BuildRelease(Resource, module="streampixel", name="BuildRelease"):
    """Keeps one Streampixel upload released (distributed) to one project.

    ``BuildRelease(name, project_id=..., upload_id=..., triggers=None, opts=None)`` (keyword
    only: ``deadline_seconds``, ``confirm``, ``confirm_deadline_seconds``) or
    ``BuildRelease(name, BuildReleaseArgs(...), opts=...)``. The resource id is the project id.
    """

    project_id: pulumi.Output[str]
    upload_id: pulumi.Output[str]
    previous_upload_id: pulumi.Output[str | None]
    region: pulumi.Output[str | None]
    status: pulumi.Output[str]
    triggered_at: pulumi.Output[str]
    action: pulumi.Output[str]
    history: pulumi.Output[list[dict[str, str]]]
    message: pulumi.Output[str | None]
    triggers: pulumi.Output[list[Any] | None]
    deadline_seconds: pulumi.Output[float | None]
    confirm: pulumi.Output[bool | None]
    confirm_deadline_seconds: pulumi.Output[float | None]
    confirm_since: pulumi.Output[str | None]
    objection: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        project_id: pulumi.Input[str] | BuildReleaseArgs | None = None,
        upload_id: pulumi.Input[str] | None = None,
        triggers: pulumi.Input[Sequence[Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        deadline_seconds: pulumi.Input[float] | None = None,
        confirm: pulumi.Input[bool] | None = None,
        confirm_deadline_seconds: pulumi.Input[float] | None = None,
        args: BuildReleaseArgs | None = None,
    ) -> None:
        if isinstance(project_id, BuildReleaseArgs):
            args, project_id = project_id, None
        if args is not None:
            if project_id is not None or upload_id is not None or triggers is not None:
                msg = "give either a BuildReleaseArgs or keyword inputs, not both"
                raise TypeError(msg)
            project_id, upload_id = args.project_id, args.upload_id
            triggers = args.triggers
            deadline_seconds = (
                args.deadline_seconds if deadline_seconds is None else deadline_seconds
            )
            confirm = args.confirm if confirm is None else confirm
            confirm_deadline_seconds = (
                args.confirm_deadline_seconds
                if confirm_deadline_seconds is None
                else confirm_deadline_seconds
            )
        if project_id is None or upload_id is None:
            msg = "BuildRelease needs project_id and upload_id"
            raise TypeError(msg)
        # Every output is declared with None so the engine registers it as an output;
        # None inputs are not sent, so they never show in the inputs.
        props: dict[str, Any] = dict.fromkeys((*OUTPUT_KEYS, *CONFIRMATION_KEYS))
        props.update(
            project_id=project_id,
            upload_id=upload_id,
            triggers=triggers,
            deadline_seconds=deadline_seconds,
            confirm=confirm,
            confirm_deadline_seconds=confirm_deadline_seconds,
        )
        super().__init__(BuildReleaseProvider(), resource_name, props, opts)
