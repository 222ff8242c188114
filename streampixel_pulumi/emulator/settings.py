"""Emulator settings: one field per behaviour of the real API that is unknown or in conflict.

Every field is also a CLI flag (``streampixel-emulator --help``) and can be changed at run time
with ``PUT /_emulator/settings``. Defaults follow the documentation (shared/streampixel-api.md);
where the docs are silent or disagree, the default is the most plausible reading and the field
says so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["PIPELINE_EVENTS", "EmulatorSettings"]

PIPELINE_EVENTS = (
    "build.uploaded",
    "build.downloading",
    "build.extracting",
    "build.saving",
    "build.distributing",
    "build.approved",
    "build.rejected",
)


class EmulatorSettings(BaseModel):
    """Behaviour switches and timings of the emulator (validated on every assignment)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    rate_limit_window: float = Field(
        default=120.0,
        ge=0,
        description="Seconds between accepted calls per user and endpoint (upload-file and "
        "distribute-file count separately); 0 disables the limit.",
    )
    rate_limit_mode: Literal["sliding", "fixed"] = Field(
        default="sliding",
        description="[UNKNOWN] sliding: the window starts at the last call that spent the slot; "
        "fixed: windows aligned to multiples of rate_limit_window on the clock.",
    )
    send_retry_after: bool = Field(
        default=False, description="[CONFLICT] send a Retry-After header (whole seconds) on 429."
    )
    retry_after_in_body: bool = Field(
        default=False,
        description="[CONFLICT] add a numeric retryAfter field (seconds) to the 429 body.",
    )
    rejected_requests_use_slot: bool = Field(
        default=True,
        description="[UNKNOWN] whether a request that passed authentication and then failed with "
        "a 4xx (project, access, file checks) spends the rate-limit slot.",
    )
    stage_seconds: float = Field(
        default=2.0, ge=0, description="Seconds an upload spends in each processing stage."
    )
    distribute_seconds: float = Field(
        default=2.0, ge=0, description="Seconds an upload spends in Distribute before it is live."
    )
    url_when: Literal["stored", "saving"] = Field(
        default="stored",
        description="[INFER] when an upload gets its URL (distribute-file stops answering "
        "'File has no URL'): once stored (after Saving to Repository) or when Saving starts.",
    )
    success_shape: Literal["full", "short"] = Field(
        default="full",
        description="[CONFLICT] distribute-file success body: full {success, uploadId, region, "
        "message} or short {message}.",
    )
    distribute_events: list[str] = Field(
        default_factory=lambda: ["build.distributing", "build.approved"],
        description="[UNKNOWN] webhook events a distribution sends (build.rejected is always "
        "sent when a distribution is rejected).",
    )
    approved_event_on_store: bool = Field(
        default=True,
        description="[CONFLICT] send build.approved when an autoRelease=false upload is stored "
        "(the CI recipe's reading) besides when a build goes live.",
    )
    access_denied_message: str = Field(
        default="Access denied",
        description="[CONFLICT] message of the 403 (docs also show 'Forbidden' and "
        "'Forbidden: project does not belong to this user').",
    )
    webhook_test_status: str | None = Field(
        default="test", description="[UNKNOWN] status field of the webhook.test envelope."
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds before an outgoing webhook POST is given up."
    )
    max_body_bytes: int = Field(
        default=65536, gt=0, description="Largest request body accepted; larger ones get 413."
    )

    @field_validator("distribute_events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        unknown = sorted(set(events) - set(PIPELINE_EVENTS))
        if unknown:
            msg = f"unknown events {unknown}; choose from {list(PIPELINE_EVENTS)}"
            raise ValueError(msg)
        return events
