"""Streampixel build releases as Pulumi resources: previewable, reviewable, revertible."""

from typing import TYPE_CHECKING

from streampixel_pulumi.errors import (
    AccessDenied,
    APIError,
    AuthError,
    BadRequest,
    BuildNotReady,
    ConfigError,
    DistributionRejected,
    InputError,
    NotFound,
    ProjectNotFound,
    RateLimited,
    ServerError,
    StreampixelError,
    TransportError,
    UnexpectedResponse,
    UploadNotFound,
    WaitTimeout,
)
from streampixel_pulumi.provider import BuildReleaseProvider
from streampixel_pulumi.resource import BuildRelease, BuildReleaseArgs

if TYPE_CHECKING:
    from streampixel_pulumi.client import StreampixelClient

__all__ = [
    "APIError",
    "AccessDenied",
    "AuthError",
    "BadRequest",
    "BuildNotReady",
    "BuildRelease",
    "BuildReleaseArgs",
    "BuildReleaseProvider",
    "ConfigError",
    "DistributionRejected",
    "InputError",
    "NotFound",
    "ProjectNotFound",
    "RateLimited",
    "ServerError",
    "StreampixelClient",
    "StreampixelError",
    "TransportError",
    "UnexpectedResponse",
    "UploadNotFound",
    "WaitTimeout",
]


def __getattr__(name: str) -> object:
    """Load the HTTP client (httpx, pydantic) on first use only.

    Every `pulumi preview` and `pulumi up` imports this package, and a program needs only
    BuildRelease: see benchmarks/import_cost.py.
    """
    if name == "StreampixelClient":
        from streampixel_pulumi.client import StreampixelClient

        return StreampixelClient
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
