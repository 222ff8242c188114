"""Pydantic models of Streampixel's request and response bodies.

Requests carry the API key as a `SecretStr`, so a model's repr never shows it. Responses are
lenient: the two generations of the docs disagree, so every field is optional and unknown
fields are ignored (see shared/streampixel-api.md). No I/O here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "DistributeRequest",
    "DistributeResult",
    "ProjectSummary",
    "ProjectsStatus",
    "TestWebhookRequest",
    "TestWebhookResult",
    "UploadRequest",
    "UploadResult",
    "UserStats",
]


class _Request(BaseModel):
    """Fields common to every POST body: the credentials travel in the JSON body."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    api_key: SecretStr = Field(alias="apiKey")
    user_id: str = Field(alias="userId")

    def body(self) -> dict[str, Any]:
        """The JSON body to send, with the API key revealed (for the wire only)."""
        data = self.model_dump(by_alias=True)
        data["apiKey"] = self.api_key.get_secret_value()
        return data


class DistributeRequest(_Request):
    """Body of POST /projects/distribute-file."""

    project_id: str = Field(alias="projectId")
    upload_id: str = Field(alias="uploadId")


class UploadRequest(_Request):
    """Body of POST /projects/upload-file."""

    project_id: str = Field(alias="projectId")
    file_url: str = Field(alias="fileUrl")
    auto_release: bool = Field(default=True, alias="autoRelease")


class TestWebhookRequest(_Request):
    """Body of POST /projects/test-webhook."""

    __test__ = False  # not a pytest test class, despite its name
    project_id: str = Field(alias="projectId")


class _Response(BaseModel):
    """Lenient response: unknown fields ignored, missing fields None."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class DistributeResult(_Response):
    """Answer of distribute-file: the distribution was triggered, not finished."""

    success: bool | None = None
    upload_id: str | None = Field(default=None, alias="uploadId")
    region: str | None = None
    message: str | None = None


class UploadResult(_Response):
    """Answer of upload-file: the build was queued for processing."""

    upload_id: str | None = Field(default=None, alias="uploadId")
    message: str | None = None


class TestWebhookResult(_Response):
    """Answer of test-webhook: what the project's webhook endpoint returned."""

    __test__ = False  # not a pytest test class, despite its name
    success: bool | None = None
    message: str | None = None
    status_code: int | None = Field(default=None, alias="statusCode")


class ProjectSummary(_Response):
    """One project of projects-status; `status` is whether the project is enabled."""

    id: str | None = Field(default=None, alias="_id")
    name: str | None = None
    status: bool | None = None
    subscription_status: str | None = Field(default=None, alias="subscriptionStatus")


class ProjectsStatus(_Response):
    """Answer of projects-status."""

    total_projects: int | None = Field(default=None, alias="totalProjects")
    projects: list[ProjectSummary] = Field(default_factory=list)


class UserStats(_Response):
    """Answer of userStats: users streaming now and users waiting in the queue."""

    live_user: int | None = Field(default=None, alias="liveUser")
    queue_user: int | None = Field(default=None, alias="queueUser")
