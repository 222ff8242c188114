"""Streampixel build releases as Pulumi resources: previewable, reviewable, revertible."""

from streampixel_pulumi.client import StreampixelClient
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

__all__ = [
    "APIError",
    "AccessDenied",
    "AuthError",
    "BadRequest",
    "BuildNotReady",
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
