"""StreampixelClient: builds each request and turns each answer into a model or a typed error.

This is the only module that sends HTTP to Streampixel. It never retries: waiting out a 429 or
a build still processing belongs to the caller, which knows the deadline (see waits.py).
Errors are built from the status and the API's ``message`` only; the API key is redacted from
anything that could reach a message, and URLs (GET endpoints carry the key) are never shown.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import re
import time
from types import TracebackType
from typing import Any, TypeGuard, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from streampixel_pulumi import errors
from streampixel_pulumi.models import (
    DistributeRequest,
    DistributeResult,
    ProjectsStatus,
    TestWebhookRequest,
    TestWebhookResult,
    UploadRequest,
    UploadResult,
    UserStats,
)

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_RETRY_AFTER", "StreampixelClient", "parse_retry_after"]

DEFAULT_BASE_URL = "https://api.streampixel.io/pixelStripeApi"
DEFAULT_RETRY_AFTER = 120.0  # the documented limit: 1 call per 2 minutes per user
_USER_AGENT = "streampixel-pulumi/0.1.0"
_RETRY_FIELDS = ("retryAfter", "retry_after", "retryAfterSeconds", "retry_after_seconds")
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b", re.IGNORECASE
)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}

_Model = TypeVar("_Model", bound=BaseModel)


class StreampixelClient:
    """A synchronous client of the Streampixel REST API, one method per endpoint.

    Args:
        api_key: the account's API key (kept as a SecretStr; never shown).
        user_id: the account's user id.
        base_url: the API root including ``/pixelStripeApi``.
        timeout: seconds allowed for each request (connect, send and read).
        transport: an httpx transport, for tests.
    """

    def __init__(
        self,
        api_key: str | SecretStr,
        user_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self.user_id = user_id
        self.base_url = base_url.rstrip("/")
        url = httpx.URL(self.base_url)
        if url.scheme not in ("http", "https") or not url.host:
            problem = f"must be an http(s) URL such as {DEFAULT_BASE_URL}"
            raise errors.ConfigError("apiUrl", problem)
        # httpx logs every request URL at INFO, and GET URLs carry the API key.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": _USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"StreampixelClient(user_id={self.user_id!r}, base_url={self.base_url!r})"

    def __enter__(self) -> StreampixelClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def distribute_file(self, project_id: str, upload_id: str) -> DistributeResult:
        """Trigger distribution of an uploaded build (asynchronous: 200 means triggered).

        A 2xx is accepted only if it does not say ``"success": false`` and carries either
        ``"success": true`` or a message; anything else raises UnexpectedResponse.
        """
        request = DistributeRequest(
            apiKey=self._api_key, userId=self.user_id, projectId=project_id, uploadId=upload_id
        )
        result = self._post("/projects/distribute-file", request.body(), DistributeResult)
        if result.success is False:
            raise errors.UnexpectedResponse(
                200,
                self._redact(result.message),
                hint="Streampixel answered success false: the distribution was not triggered.",
                effect_unknown=False,
            )
        if result.success is None and not result.message:
            raise errors.UnexpectedResponse(
                200, None, hint="The answer has neither success nor message."
            )
        if result.upload_id is not None and result.upload_id != upload_id:
            raise errors.UnexpectedResponse(
                200,
                self._redact(result.message),
                hint=f"Streampixel reported upload {result.upload_id!r}, not the one requested.",
            )
        return result

    def upload_file(
        self, project_id: str, file_url: str, *, auto_release: bool = True
    ) -> UploadResult:
        """Queue a packaged build (.zip at a direct-download URL) for processing."""
        request = UploadRequest(
            apiKey=self._api_key,
            userId=self.user_id,
            projectId=project_id,
            fileUrl=file_url,
            autoRelease=auto_release,
        )
        result = self._post("/projects/upload-file", request.body(), UploadResult)
        if not result.upload_id:
            raise errors.UnexpectedResponse(
                200, self._redact(result.message), hint="The answer carries no uploadId."
            )
        return result

    def test_webhook(self, project_id: str) -> TestWebhookResult:
        """Ask Streampixel to send a webhook.test event to the project's webhook URL."""
        request = TestWebhookRequest(
            apiKey=self._api_key, userId=self.user_id, projectId=project_id
        )
        return self._post("/projects/test-webhook", request.body(), TestWebhookResult)

    def projects_status(self) -> ProjectsStatus:
        """List the user's projects with their enabled flag and subscription status."""
        return self._get("/projects/projects-status", ProjectsStatus)

    def user_stats(self, project_id: str) -> UserStats:
        """Users streaming and queued now for one project."""
        return self._get(f"/projects/userStats/{quote(project_id, safe='')}", UserStats)

    def _post(self, path: str, body: dict[str, Any], model: type[_Model]) -> _Model:
        return self._send("POST", path, model, json=body)

    def _get(self, path: str, model: type[_Model]) -> _Model:
        params = {"userId": self.user_id, "apikey": self._api_key.get_secret_value()}
        return self._send("GET", path, model, params=params)

    def _send(self, method: str, path: str, model: type[_Model], **kwargs: Any) -> _Model:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._transport_error(method, path, exc) from None
        return self._parse(response, model)

    def _parse(self, response: httpx.Response, model: type[_Model]) -> _Model:
        body = _json_object(response)
        message = self._redact(_message(body))
        status = response.status_code
        if 200 <= status < 300:
            if body is None:
                raise errors.UnexpectedResponse(status, None, hint=_not_json_hint(response))
            try:
                return model.model_validate(body)
            except ValidationError as exc:
                fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
                raise errors.UnexpectedResponse(
                    status,
                    message,
                    hint=f"Unexpected field types in the answer: {fields}.",
                ) from None
        raise _api_error(response, body, message)

    def _transport_error(
        self, method: str, path: str, exc: httpx.HTTPError
    ) -> errors.TransportError:
        what = f"{method} {path.split('?')[0]}"
        detail = self._redact(str(exc)) or type(exc).__name__
        # Connect failures happen before a byte is sent; a write failure means the request was
        # never completely written, so the server cannot have acted on it.
        never_sent = (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.WriteError,
            httpx.WriteTimeout,
            httpx.UnsupportedProtocol,
        )
        if isinstance(exc, never_sent):
            return errors.TransportError(
                f"{what} could not be sent ({type(exc).__name__}: {detail})", sent=False
            )
        if isinstance(exc, httpx.ReadTimeout):
            problem = f"{what} got no answer in time ({type(exc).__name__})"
        else:
            problem = f"{what} lost its answer ({type(exc).__name__}: {detail})"
        return errors.TransportError(problem, sent=True)

    def _redact(self, text: str | None) -> str | None:
        """Remove the API key from text that came from elsewhere (a server may echo it)."""
        if text is None:
            return None
        key = self._api_key.get_secret_value()
        return text.replace(key, "***") if key else text


def parse_retry_after(
    headers: httpx.Headers | dict[str, str],
    body: dict[str, Any] | None,
    *,
    now: float | None = None,
) -> float:
    """Seconds to wait after a 429, from the first hint found.

    In order: a Retry-After header (seconds or HTTP date), a numeric body field, a number with
    a unit in the message ("in 2 minutes", "in 87 seconds"), else 120 s.
    """
    header = httpx.Headers(headers).get("retry-after")
    if header:
        seconds = _retry_after_header(header.strip(), time.time() if now is None else now)
        if seconds is not None:
            return seconds
    if body is not None:
        for field in _RETRY_FIELDS:
            value = body.get(field)
            if _is_seconds(value):
                return float(value)
        message = body.get("message")
        if isinstance(message, str):
            match = _DURATION.search(message)
            if match:
                return float(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()]
    return DEFAULT_RETRY_AFTER


def _is_seconds(value: object) -> TypeGuard[float]:
    """A JSON number (not a bool) that is finite and not negative."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value >= 0


def _retry_after_header(value: str, now: float) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - now)
    return seconds if _is_seconds(seconds) else None


def _api_error(
    response: httpx.Response, body: dict[str, Any] | None, message: str | None
) -> errors.APIError:
    """Map a non-2xx answer to the error type its status and message mean."""
    status = response.status_code
    text = (message or "").lower()
    if status == 400:
        if "no url" in text:
            return errors.BuildNotReady(status, message)
        return errors.BadRequest(status, message)
    if status == 401:
        return errors.AuthError(status, message)
    if status == 403:
        return errors.AccessDenied(status, message)
    if status == 404:
        if "project" in text and "not found" in text and "file" not in text:
            return errors.ProjectNotFound(status, message)
        if "file" in text or "upload" in text:
            return errors.UploadNotFound(status, message)
        if "webhook" in text:
            return errors.NotFound(
                status, message, hint="Set the project's webhook URL in the Streampixel dashboard."
            )
        return errors.NotFound(status, message)
    if status == 429:
        return errors.RateLimited(
            status, message, retry_after=parse_retry_after(response.headers, body)
        )
    if status >= 500:
        return errors.ServerError(status, message)
    if 400 <= status < 500:
        return errors.BadRequest(status, message)
    return errors.UnexpectedResponse(status, message, hint=_not_json_hint(response))


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (HTML, garbage, a list).

    Nesting deep enough to exhaust the parser's recursion is garbage too.
    """
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _message(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return None
    message = body.get("message")
    return message if isinstance(message, str) else None


def _not_json_hint(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return f"The answer was not a JSON object ({kind}, {len(response.content)} bytes)."
