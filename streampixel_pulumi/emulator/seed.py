"""The seed format (users, projects, uploads) and its loader for JSON and YAML files.

The format is the one in design.md; pydantic checks it so a typo in a seed file fails loudly.
Also holds the models of the control API's partial updates of projects and uploads. Error
messages are built from field locations only, never from input values (seeds hold API keys).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "ProjectUpdate",
    "Seed",
    "SeedProject",
    "SeedUpload",
    "SeedUser",
    "UploadStatus",
    "UploadUpdate",
    "describe_validation_error",
    "load_seed_file",
]

UploadStatus = Literal[
    "pending",
    "Downloading Files",
    "Extracting & Scanning",
    "Saving to Repository",
    "Approved",
    "Reject",
]
ProcessingStage = Literal[
    "pending", "Downloading Files", "Extracting & Scanning", "Saving to Repository"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedUser(_Strict):
    """A Streampixel account: its id and its current API key."""

    user_id: str = Field(min_length=1)
    api_key: str = Field(min_length=1, repr=False)


class SeedProject(_Strict):
    """A project; `webhook_events` None means every event."""

    project_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    name: str = "Project"
    region: str = "asia-pacific"
    enabled: bool = True
    live_upload_id: str | None = None
    webhook_url: str | None = None
    webhook_events: list[str] | None = None
    subscription_status: str = "active"
    live_users: int = Field(default=0, ge=0)
    queue_users: int = Field(default=0, ge=0)


class SeedUpload(_Strict):
    """An upload (build); `reject_at` names the stage where processing rejects it."""

    upload_id: str = Field(min_length=1)
    project_id: str = Field(min_length=1)
    status: UploadStatus = "Approved"
    file_url: str | None = None
    auto_release: bool = False
    reject_at: ProcessingStage | None = None
    objection: str | None = None
    reject_on_distribute: str | None = None


class Seed(_Strict):
    """A whole seed document."""

    users: list[SeedUser] = Field(default_factory=list)
    projects: list[SeedProject] = Field(default_factory=list)
    uploads: list[SeedUpload] = Field(default_factory=list)


class ProjectUpdate(_Strict):
    """Fields the control API may change on a project (only those sent are applied)."""

    user_id: str | None = None
    name: str | None = None
    region: str | None = None
    enabled: bool | None = None
    live_upload_id: str | None = None
    webhook_url: str | None = None
    webhook_events: list[str] | None = None
    subscription_status: str | None = None
    live_users: int | None = Field(default=None, ge=0)
    queue_users: int | None = Field(default=None, ge=0)


class UploadUpdate(_Strict):
    """Fields the control API may change on an upload (only those sent are applied)."""

    file_url: str | None = None
    auto_release: bool | None = None
    reject_at: ProcessingStage | None = None
    objection: str | None = None
    reject_on_distribute: str | None = None


def describe_validation_error(exc: ValidationError) -> str:
    """Summarise a pydantic error by field location and problem, without input values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def load_seed_file(path: str | Path) -> dict[str, Any]:
    """Read a seed from a JSON or YAML file (chosen by extension; JSON tried first otherwise).

    Returns the validated seed as a plain dict; raises ValueError naming the file and the
    problem when it cannot be read or does not match the seed format.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = _load_yaml(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            try:
                data = json.loads(text)
            except ValueError:
                data = _load_yaml(text)
    except ValueError as exc:
        msg = f"{path}: not valid JSON or YAML ({exc.__class__.__name__})"
        raise ValueError(msg) from None
    try:
        return Seed.model_validate(data).model_dump()
    except ValidationError as exc:
        msg = f"{path}: {describe_validation_error(exc)}"
        raise ValueError(msg) from None


def _load_yaml(text: str) -> Any:
    import yaml  # the servers extra; imported here so JSON seeds need no PyYAML

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = "invalid YAML"
        raise ValueError(msg) from exc
