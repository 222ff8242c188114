"""Every error streampixel_pulumi raises, in one tree.

    StreampixelError                      catch-all
    ├── ConfigError (ValueError)          missing/invalid setting; names the key, never its value
    ├── InputError (ValueError)           bad resource input; names the field and the problem
    ├── APIError                          Streampixel answered; .status_code, .api_message
    │   ├── BadRequest                    400 (missing field, malformed request)
    │   │   └── BuildNotReady             400 "File has no URL": still processing (retry-safe)
    │   ├── AuthError                     401 invalid API key or user
    │   ├── AccessDenied                  403 not the owner, or project disabled
    │   ├── NotFound                      404
    │   │   ├── ProjectNotFound           404 "Project not found"
    │   │   └── UploadNotFound            404 "File not found in project"
    │   ├── RateLimited                   429; .retry_after seconds (retry-safe)
    │   ├── ServerError                   5xx
    │   └── UnexpectedResponse            non-JSON/HTML body, 2xx with success false or no fields
    ├── TransportError                    no HTTP answer; .sent: may the request have landed?
    ├── WaitTimeout                       a deadline passed (rate limit, processing, confirmation)
    └── DistributionRejected              a webhook reported build.rejected; .objection

Messages are built from the status and the API's own ``message`` only, never from a URL or a
request body, so an API key cannot leak through them.
"""

from __future__ import annotations

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
    "StreampixelError",
    "TransportError",
    "UnexpectedResponse",
    "UploadNotFound",
    "WaitTimeout",
]


class StreampixelError(Exception):
    """Base class of every error raised by streampixel_pulumi."""


class ConfigError(StreampixelError, ValueError):
    """A setting is missing or invalid; `key` names it (its value is never shown)."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


class InputError(StreampixelError, ValueError):
    """A resource input is invalid; `field` names it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class APIError(StreampixelError):
    """Streampixel answered with an error.

    `status_code` is the HTTP status, `api_message` the body's ``message`` verbatim (None if
    the body had none), `hint` what the user should do about it and `service` who answered
    (Streampixel, or the webhook receiver for status reads).
    """

    retry_safe = False
    default_hint = "See the Streampixel API documentation for this error."

    def __init__(
        self,
        status_code: int | None,
        api_message: str | None,
        *,
        hint: str | None = None,
        service: str = "Streampixel",
    ) -> None:
        self.status_code = status_code
        self.api_message = api_message
        self.hint = hint if hint is not None else self.default_hint
        self.service = service
        status = f"HTTP {status_code}" if status_code is not None else "no status"
        said = f": {api_message}" if api_message else ""
        super().__init__(f"{service} answered {status}{said}. {self.hint}")


class BadRequest(APIError):
    """400: a required field is missing or the request is malformed."""

    default_hint = "The request was rejected as malformed; check the ids and fields sent."


class BuildNotReady(BadRequest):
    """400 "File has no URL": the build is still processing; retrying later is safe."""

    retry_safe = True
    default_hint = "The build is still being processed by Streampixel; retry once it is stored."


class AuthError(APIError):
    """401: the API key or the user id is wrong, rotated or belongs to someone else."""

    default_hint = (
        "Check streampixel:apiKey (STREAMPIXEL_API_KEY) and streampixel:userId "
        "(STREAMPIXEL_USER_ID); a newly requested key invalidates the old one at once."
    )


class AccessDenied(APIError):
    """403: the project is not this user's, or an admin disabled it."""

    default_hint = (
        "The project does not belong to streampixel:userId, or it is disabled; "
        "check project_id and the project's state in the Streampixel dashboard."
    )


class NotFound(APIError):
    """404: the project or the upload does not exist."""

    default_hint = "Check project_id and upload_id against the Streampixel dashboard."


class ProjectNotFound(NotFound):
    """404 "Project not found"."""

    default_hint = "No project has this project_id; copy it from the Streampixel dashboard."


class UploadNotFound(NotFound):
    """404 "File not found in project": the upload id belongs to no build of this project."""

    default_hint = (
        "This upload_id is not a build of this project; check upload_id (and project_id)."
    )


class RateLimited(APIError):
    """429: Streampixel allows one call per 2 minutes per user; retrying later is safe."""

    retry_safe = True

    def __init__(
        self,
        status_code: int | None,
        api_message: str | None,
        *,
        retry_after: float,
        hint: str | None = None,
        service: str = "Streampixel",
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            status_code,
            api_message,
            hint=hint or f"Retry in {retry_after:g} s; run one deploy per user at a time.",
            service=service,
        )


class ServerError(APIError):
    """5xx: Streampixel failed; the distribution may or may not have been triggered."""

    default_hint = (
        "Streampixel failed while handling the request, so the distribution may or may not "
        "have been triggered; check the dashboard before running again."
    )


class UnexpectedResponse(APIError):
    """The answer was not one the API documents (HTML, malformed JSON, success false, ...).

    Something answered, so unless the answer itself says nothing happened (`effect_unknown`
    False, e.g. ``"success": false``), the message warns that the call may have taken effect.
    """

    default_hint = "The answer was not understood."

    def __init__(
        self,
        status_code: int | None,
        api_message: str | None,
        *,
        hint: str | None = None,
        service: str = "Streampixel",
        effect_unknown: bool = True,
    ) -> None:
        self.effect_unknown = effect_unknown
        hint = hint if hint is not None else self.default_hint
        if effect_unknown:
            hint += (
                " It is unknown whether the request took effect; check the Streampixel "
                "dashboard before running again."
            )
        super().__init__(status_code, api_message, hint=hint, service=service)


class TransportError(StreampixelError):
    """No HTTP answer arrived (connection refused or reset, timeout).

    `sent` says whether the request may have reached Streampixel: False when the connection
    was never made, True when it was sent and the answer was lost, so the call may have landed.
    """

    def __init__(self, problem: str, *, sent: bool, service: str = "Streampixel") -> None:
        self.problem = problem
        self.sent = sent
        self.service = service
        if sent:
            after = (
                f"The request may have reached {service} and may have taken effect; "
                "check before running again."
            )
        else:
            after = f"The request did not reach {service}; it is safe to run again."
        super().__init__(f"{problem}. {after}")


class WaitTimeout(StreampixelError):
    """A deadline passed while waiting (rate limit, build processing, confirmation)."""


class DistributionRejected(StreampixelError):
    """Streampixel rejected the build (webhook build.rejected); `objection` says why."""

    def __init__(self, upload_id: str, objection: str | None, *, hint: str | None = None) -> None:
        self.upload_id = upload_id
        self.objection = objection
        reason = objection or "no objection given"
        after = f" {hint}" if hint else ""
        super().__init__(f"Streampixel rejected upload {upload_id}: {reason}.{after}")
