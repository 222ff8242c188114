"""Triggering one distribution: credentials, pacing, the distribute-file call and its retries.

Imported by the provider only when it creates or updates a resource, so a preview never loads
the HTTP client. A 429 or "File has no URL" is waited out and retried within the deadline;
any answer that may mean the call landed is never retried (see waits.retry_delay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

from streampixel_pulumi.client import StreampixelClient
from streampixel_pulumi.config import Settings
from streampixel_pulumi.errors import (
    AccessDenied,
    APIError,
    AuthError,
    BuildNotReady,
    NotFound,
    ProjectNotFound,
    RateLimited,
    StreampixelError,
    TransportError,
    UploadNotFound,
)
from streampixel_pulumi.models import DistributeResult
from streampixel_pulumi.pacing import Pacer
from streampixel_pulumi.waits import Deadline, Progress, Waiter, retry_delay

__all__ = ["Triggered", "trigger"]


@dataclass(frozen=True)
class Triggered:
    """What Streampixel said when it accepted a distribution, and when.

    `triggered_at` is the moment the accepted answer arrived (ISO 8601, seconds, UTC): the
    output. `started_at` is when the accepted request was sent, at full precision: webhook
    events of this distribution cannot be older (confirm.py compares against it).
    """

    region: str | None
    message: str | None
    triggered_at: str
    started_at: datetime


def trigger(
    settings: Settings,
    project_id: str,
    upload_id: str,
    *,
    action: str,
    deadline_seconds: float,
    transport: httpx.BaseTransport | None = None,
) -> Triggered:
    """Make one accepted distribute-file call for `upload_id`, within `deadline_seconds`."""
    api_key, user_id = settings.require_credentials()
    progress = Progress(project_id, every=settings.progress_seconds)
    waiter = Waiter(Deadline(deadline_seconds), progress)
    pacer = Pacer(settings.cache_dir, user_id, settings.rate_limit_seconds)
    progress.say(f"{action}: distributing upload {upload_id}")
    with StreampixelClient(
        api_key,
        user_id,
        base_url=settings.api_url,
        timeout=settings.http_timeout_seconds,
        transport=transport,
    ) as client:
        result, started_at = _distribute(client, pacer, waiter, project_id, upload_id, user_id)
    triggered_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    progress.say(f"{action} of upload {upload_id} triggered ({result.message or 'accepted'})")
    return Triggered(
        region=result.region,
        message=result.message,
        triggered_at=triggered_at,
        started_at=started_at,
    )


def _distribute(
    client: StreampixelClient,
    pacer: Pacer,
    waiter: Waiter,
    project_id: str,
    upload_id: str,
    user_id: str,
) -> tuple[DistributeResult, datetime]:
    """Call distribute-file until Streampixel accepts it, within the waiter's deadline.

    Returns the answer and when the accepted request was sent. Each attempt takes the user's
    pacing turn and records what it spent; retry waits happen outside the turn so other
    projects of the user can use the slots in between.
    """
    interval = pacer.interval
    while True:
        with pacer.turn(waiter) as turn:
            started_at = datetime.now(timezone.utc)
            try:
                result = client.distribute_file(project_id, upload_id)
            except RateLimited as error:
                turn.spend(error.retry_after)
                failure: StreampixelError = error
            except APIError as error:
                # Whether a rejected call spends the slot is unknown: assume it does.
                turn.spend(interval)
                failure = error
            except TransportError as error:
                if error.sent:
                    turn.spend(interval)
                failure = error
            else:
                turn.spend(interval)
                return result, started_at
        delay = retry_delay(failure, interval=interval)
        if delay is None:
            raise _explain(failure, project_id, upload_id, user_id) from None
        waiter.sleep(delay, _waiting_for(failure))


def _waiting_for(error: StreampixelError) -> str:
    if isinstance(error, RateLimited):
        return "rate limited"
    if isinstance(error, BuildNotReady):
        return "build not ready yet (File has no URL)"
    if isinstance(error, TransportError):
        return f"Streampixel could not be reached ({error.problem})"
    return "Streampixel could not be reached"


def _explain(
    error: StreampixelError, project_id: str, upload_id: str, user_id: str
) -> StreampixelError:
    """The same error with a hint naming the setting or id to fix."""
    if not isinstance(error, APIError) or isinstance(error, RateLimited):
        return error
    hint: str | None = None
    if isinstance(error, AuthError):
        hint = (
            f"Check streampixel:apiKey (secret, or STREAMPIXEL_API_KEY) and streampixel:userId "
            f"(or STREAMPIXEL_USER_ID; now {user_id}); requesting a new key invalidates the "
            "old one at once."
        )
    elif isinstance(error, AccessDenied):
        hint = (
            f"Project {project_id} does not belong to streampixel:userId {user_id}, or it is "
            "disabled; check project_id and the project in the Streampixel dashboard."
        )
    elif isinstance(error, ProjectNotFound):
        hint = f"No Streampixel project has project_id {project_id}; copy it from the dashboard."
    elif isinstance(error, UploadNotFound):
        hint = (
            f"Upload {upload_id} is not a build of project {project_id}; check upload_id "
            "(and project_id)."
        )
    elif isinstance(error, NotFound) and error.api_message is None:
        # Streampixel's 404s always carry a message; a bare one comes from another server.
        hint = (
            "The answer was not Streampixel's (a 404 without a message): check "
            "streampixel:apiUrl (STREAMPIXEL_API_URL), which must end in /pixelStripeApi."
        )
    elif isinstance(error, NotFound):
        hint = f"Check project_id {project_id} and upload_id {upload_id} against the dashboard."
    if hint is None:
        return error
    return type(error)(error.status_code, error.api_message, hint=hint)
