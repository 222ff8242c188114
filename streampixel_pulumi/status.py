"""StatusClient: the provider's read-only view of the webhook receiver (streampixel-webhooks).

Streampixel reports a distribution's progress only through webhooks, so the provider asks the
team's receiver what it heard about an upload. Imports no server framework. Failures raise
`streampixel_pulumi.errors` types; the read token never appears in a message or repr.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from streampixel_pulumi.errors import (
    AccessDenied,
    APIError,
    AuthError,
    BadRequest,
    ConfigError,
    InputError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    UnexpectedResponse,
)
from streampixel_pulumi.webhooks.events import (
    NO_EVENTS_MESSAGE,
    ProjectEvent,
    ProjectEvents,
    UploadStatus,
    to_utc,
)

__all__ = ["ProjectEvent", "StatusClient", "UploadStatus"]

_Model = TypeVar("_Model", bound=BaseModel)
_SERVICE = "The webhook receiver"
_URL_KEY = "streampixel:statusUrl"
_AUTH_HINT = (
    "The webhook receiver refused the read token; check streampixel:statusToken "
    "(STREAMPIXEL_STATUS_TOKEN) against the receiver's STREAMPIXEL_READ_TOKEN."
)
_NOT_FOUND_HINT = (
    "The webhook receiver has no such path; streampixel:statusUrl (STREAMPIXEL_STATUS_URL) "
    "should be the receiver's root URL, without /hooks/..."
)
_SERVER_HINT = "The webhook receiver failed; see its log."
_UNEXPECTED_HINT = "The answer is not the webhook receiver's; check streampixel:statusUrl (STREAMPIXEL_STATUS_URL)."


def _translate(exc: httpx.HTTPError) -> TransportError | ConfigError:
    """Map an httpx failure to our errors without its text (which may contain the URL)."""
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return ConfigError(_URL_KEY, "is not a valid http(s) URL")
    name = type(exc).__name__
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TransportError(
            f"Could not connect to the webhook receiver ({name})", sent=False, service=_SERVICE
        )
    return TransportError(
        f"The webhook receiver did not answer ({name})", sent=True, service=_SERVICE
    )


class StatusClient:
    """Reads upload states from a streampixel-webhooks receiver; a context manager.

    Args:
        base_url: the receiver's root URL (streampixel:statusUrl), e.g. ``https://hooks.example``.
        token: the receiver's read token (streampixel:statusToken).
        timeout: seconds per request.
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        token: str | SecretStr,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(_URL_KEY, "must start with http:// or https://")
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        if not self._token.get_secret_value():
            raise ConfigError("streampixel:statusToken", "must not be empty")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport, follow_redirects=False
        )

    def __repr__(self) -> str:
        return f"StatusClient(base_url={self.base_url!r})"

    def upload(
        self,
        upload_id: str,
        *,
        project_id: str | None = None,
        since: datetime | None = None,
        timeout: float | None = None,
    ) -> UploadStatus | None:
        """What the receiver heard about `upload_id`; None if it heard nothing (yet).

        Args:
            upload_id: the Streampixel upload id.
            project_id: only count events reported for this project.
            since: only count events whose timestamp is at or after this moment, e.g. the
                time distribute-file was called, so an earlier release of the same upload is
                not mistaken for this one.
            timeout: seconds for this request instead of the client's (e.g. what is left of
                a deadline).
        """
        if not upload_id:
            raise InputError("upload_id", "must not be empty")
        params: dict[str, str] = {}
        if project_id is not None:
            params["project_id"] = project_id
        if since is not None:
            params["since"] = to_utc(since).isoformat()
        response = self._get(f"/uploads/{quote(upload_id, safe='')}", params, timeout)
        if response.status_code == 404 and self._message(response) == NO_EVENTS_MESSAGE:
            return None
        return self._parse(response, UploadStatus)

    def project_events(self, project_id: str, *, limit: int = 50) -> list[ProjectEvent]:
        """The project's latest `limit` events, newest first.

        Args:
            project_id: the Streampixel project id.
            limit: 1 to 1000.
        """
        if not project_id:
            raise InputError("project_id", "must not be empty")
        path = f"/projects/{quote(project_id, safe='')}/events"
        response = self._get(path, {"limit": str(limit)})
        return self._parse(response, ProjectEvents).events

    def _get(
        self, path: str, params: dict[str, str], timeout: float | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        try:
            if timeout is None:
                return self._http.get(path, params=params, headers=headers)
            return self._http.get(path, params=params, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise _translate(exc) from None

    def _message(self, response: httpx.Response) -> str | None:
        """The body's ``message``, if it is a JSON object with one (never the token)."""
        try:
            body: Any = response.json()
        except ValueError:
            return None
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str):
            return None
        return message.replace(self._token.get_secret_value(), "[secure]")[:500]

    def _parse(self, response: httpx.Response, model: type[_Model]) -> _Model:
        if response.is_success:
            try:
                return model.model_validate_json(response.content)
            except ValidationError:
                raise UnexpectedResponse(
                    response.status_code,
                    None,
                    hint=_UNEXPECTED_HINT,
                    service=_SERVICE,
                    effect_unknown=False,
                ) from None
        raise self._error(response)

    def _error(self, response: httpx.Response) -> APIError:
        status = response.status_code
        message = self._message(response)
        if status == 401:
            return AuthError(status, message, hint=_AUTH_HINT, service=_SERVICE)
        if status == 403:
            return AccessDenied(status, message, hint=_AUTH_HINT, service=_SERVICE)
        if status == 404:
            return NotFound(status, message, hint=_NOT_FOUND_HINT, service=_SERVICE)
        if status == 429:
            return RateLimited(
                status, message, retry_after=_retry_after(response), service=_SERVICE
            )
        if status in (400, 413, 422):
            return BadRequest(status, message, service=_SERVICE)
        if status >= 500:
            return ServerError(status, message, hint=_SERVER_HINT, service=_SERVICE)
        return UnexpectedResponse(
            status, message, hint=_UNEXPECTED_HINT, service=_SERVICE, effect_unknown=False
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> StatusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a Retry-After header, else a short default (the receiver never sends 429)."""
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return 10.0
