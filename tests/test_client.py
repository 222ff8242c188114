"""StreampixelClient against httpx.MockTransport: requests built, answers mapped, key hidden."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from streampixel_pulumi import errors
from streampixel_pulumi.client import DEFAULT_BASE_URL, StreampixelClient, parse_retry_after

DATA = Path(__file__).parent / "data"
KEY = "sk_live_RECOGNIZABLE_KEY_7f3a9c"
USER = "5f0000000000000000000001"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"
UPLOAD = "665a1b2c3d4e5f6a7b8c9d0e"

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler) -> StreampixelClient:
    return StreampixelClient(KEY, USER, transport=httpx.MockTransport(handler))


def answer(status: int, body: Any = None, **kwargs: Any) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, **kwargs)

    return handler


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_distribute_posts_credentials_and_ids_as_json_body() -> None:
    """distribute-file sends apiKey, userId, projectId and uploadId in the JSON body."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load("distribute_success_full.json"))

    make_client(handler).distribute_file(PROJECT, UPLOAD)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == f"{DEFAULT_BASE_URL}/projects/distribute-file"
    assert json.loads(request.content) == {
        "apiKey": KEY,
        "userId": USER,
        "projectId": PROJECT,
        "uploadId": UPLOAD,
    }
    assert "authorization" not in request.headers


def test_distribute_parses_full_success_shape() -> None:
    """The documented long success body parses into every field."""
    result = make_client(answer(200, load("distribute_success_full.json"))).distribute_file(
        PROJECT, UPLOAD
    )
    assert result.success is True
    assert result.upload_id == UPLOAD
    assert result.region == "europe"
    assert result.message == "File distribution triggered successfully"


def test_distribute_parses_short_success_shape() -> None:
    """The documented short success body parses, missing fields being None."""
    result = make_client(answer(200, load("distribute_success_short.json"))).distribute_file(
        PROJECT, UPLOAD
    )
    assert result.message == "Distribution triggered"
    assert result.success is None
    assert result.region is None


def test_distribute_ignores_unknown_fields() -> None:
    """Extra fields in a success body are ignored."""
    body = {**load("distribute_success_full.json"), "queuedAt": "now", "extra": {"a": 1}}
    result = make_client(answer(200, body)).distribute_file(PROJECT, UPLOAD)
    assert result.region == "europe"


@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [
        (400, {"message": "Missing required field: uploadId"}, errors.BadRequest, "uploadId"),
        (400, {"message": "File has no URL"}, errors.BuildNotReady, "still being processed"),
        (401, {"message": "Unauthorized: Invalid API Key"}, errors.AuthError, "apiKey"),
        (401, {"message": "Invalid User"}, errors.AuthError, "userId"),
        (403, {"message": "Access denied"}, errors.AccessDenied, "disabled"),
        (
            403,
            {"message": "Forbidden: project does not belong to this user"},
            errors.AccessDenied,
            "project_id",
        ),
        (404, {"message": "Project not found"}, errors.ProjectNotFound, "project_id"),
        (404, {"message": "File not found in project"}, errors.UploadNotFound, "upload_id"),
        (
            429,
            {"message": "Rate limit exceeded. Try again in 2 minutes."},
            errors.RateLimited,
            "Retry in 120",
        ),
        (500, {"message": "Internal server error"}, errors.ServerError, "may or may not"),
        (503, {"message": "Service unavailable"}, errors.ServerError, "may or may not"),
        (418, {"message": "I'm a teapot"}, errors.BadRequest, "rejected"),
    ],
    ids=[
        "400-missing-field",
        "400-no-url",
        "401-key",
        "401-user",
        "403-access-denied",
        "403-forbidden",
        "404-project",
        "404-upload",
        "429",
        "500",
        "503",
        "418-other-4xx",
    ],
)
def test_error_status_maps_to_typed_error_with_message_and_hint(
    status: int, body: dict[str, str], error: type[errors.APIError], fragment: str
) -> None:
    """Each documented error answer raises its own type, carrying status, message and a fix."""
    with pytest.raises(error) as caught:
        make_client(answer(status, body)).distribute_file(PROJECT, UPLOAD)
    assert type(caught.value) is error
    assert caught.value.status_code == status
    assert caught.value.api_message == body["message"]
    assert body["message"] in str(caught.value)
    assert fragment in str(caught.value)


def test_build_not_ready_and_rate_limited_are_retry_safe() -> None:
    """Only the errors that cannot have triggered anything are marked retry-safe."""
    assert errors.BuildNotReady.retry_safe
    assert errors.RateLimited.retry_safe
    assert not errors.ServerError.retry_safe
    assert not errors.UnexpectedResponse.retry_safe
    assert not errors.AuthError.retry_safe


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ({"success": False, "message": "Queue full"}, "success false"),
        ({}, "neither success nor message"),
        ({"success": True, "uploadId": "someone-else"}, "not the one requested"),
        ({"success": "maybe", "message": 5}, "Unexpected field types"),
    ],
    ids=["success-false", "empty-object", "other-upload", "wrong-types"],
)
def test_distribute_2xx_that_does_not_confirm_is_unexpected(body: Any, hint: str) -> None:
    """A 2xx that does not say the distribution was triggered is never taken as acceptance."""
    with pytest.raises(errors.UnexpectedResponse, match=hint):
        make_client(answer(200, body)).distribute_file(PROJECT, UPLOAD)


@pytest.mark.parametrize(
    ("status", "content", "content_type", "error"),
    [
        (200, b"<html><body>Welcome</body></html>", "text/html", errors.UnexpectedResponse),
        (200, b'{"message": "Distribution trig', "application/json", errors.UnexpectedResponse),
        (200, b'["not", "an", "object"]', "application/json", errors.UnexpectedResponse),
        (502, b"<html><h1>502 Bad Gateway</h1></html>", "text/html", errors.ServerError),
        (404, b"Not Found", "text/plain", errors.NotFound),
    ],
    ids=["html-200", "truncated-json", "json-array", "html-502", "text-404"],
)
def test_non_json_answers_raise_typed_errors(
    status: int, content: bytes, content_type: str, error: type[errors.APIError]
) -> None:
    """HTML pages, truncated JSON and non-object JSON become typed errors without a message."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    with pytest.raises(error) as caught:
        make_client(handler).distribute_file(PROJECT, UPLOAD)
    assert caught.value.status_code == status
    assert caught.value.api_message is None


def test_upload_file_sends_auto_release_and_returns_upload_id() -> None:
    """upload-file sends fileUrl and autoRelease and returns the new uploadId."""
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=load("upload_success.json"))

    result = make_client(handler).upload_file(
        PROJECT, "https://bucket.example/build.zip", auto_release=False
    )
    assert result.upload_id == "665a1b2c3d4e5f6a7b8c9d0f"
    assert seen[0]["autoRelease"] is False
    assert seen[0]["fileUrl"] == "https://bucket.example/build.zip"


def test_upload_file_without_upload_id_is_unexpected() -> None:
    """A 2xx upload answer without an uploadId is not usable."""
    with pytest.raises(errors.UnexpectedResponse, match="uploadId"):
        make_client(answer(200, {"message": "Build queued for processing"})).upload_file(
            PROJECT, "https://bucket.example/build.zip"
        )


def test_test_webhook_parses_status_code() -> None:
    """test-webhook returns success, message and the receiver's status code."""
    result = make_client(answer(200, load("test_webhook_success.json"))).test_webhook(PROJECT)
    assert result.success is True
    assert result.status_code == 200


def test_test_webhook_without_url_explains_dashboard_setting() -> None:
    """404 No webhook URL configured says where to set the URL."""
    with pytest.raises(errors.NotFound, match="dashboard"):
        make_client(answer(404, {"message": "No webhook URL configured"})).test_webhook(PROJECT)


def test_projects_status_sends_lowercase_apikey_query_and_parses_projects() -> None:
    """GET endpoints authenticate with userId and apikey (lower case k) query parameters."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load("projects_status.json"))

    status = make_client(handler).projects_status()
    assert seen[0].url.params["apikey"] == KEY
    assert seen[0].url.params["userId"] == USER
    assert status.total_projects == 2
    assert status.projects[0].id == "664f1a2b3c4d5e6f7a8b9c0d"
    assert status.projects[1].status is False


def test_user_stats_puts_project_in_path() -> None:
    """userStats reads the project id from the path and parses both counters."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load("user_stats.json"))

    stats = make_client(handler).user_stats(PROJECT)
    assert seen[0].url.path.endswith(f"/projects/userStats/{PROJECT}")
    assert (stats.live_user, stats.queue_user) == (3, 1)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "37"}, {"message": "Try again in 2 minutes."}, 37.0),
        ({"Retry-After": "Thu, 03 Dec 2026 16:02:00 GMT"}, None, 60.0),
        ({}, {"retryAfter": 42, "message": "Try again in 2 minutes."}, 42.0),
        ({}, {"retry_after": 7.5}, 7.5),
        ({}, {"message": "Rate limit exceeded. Try again in 2 minutes."}, 120.0),
        ({}, {"message": "Rate limit exceeded. Try again in 87 seconds."}, 87.0),
        ({}, {"message": "Try again in 1 hour"}, 3600.0),
        ({}, {"message": "Rate limit exceeded."}, 120.0),
        ({"Retry-After": "soon"}, {"retryAfter": True}, 120.0),
        ({}, None, 120.0),
    ],
    ids=[
        "header-seconds-first",
        "header-http-date",
        "body-field-before-message",
        "body-snake-case",
        "message-minutes",
        "message-seconds",
        "message-hours",
        "no-hint",
        "invalid-hints",
        "no-body",
    ],
)
def test_retry_after_takes_first_hint_found(
    headers: dict[str, str], body: dict[str, Any] | None, expected: float
) -> None:
    """Retry-After header, then a numeric body field, then the message, else 120 s."""
    now = 1_796_313_660.0  # Thu, 03 Dec 2026 16:01:00 GMT
    assert parse_retry_after(headers, body, now=now) == pytest.approx(expected)


def test_rate_limited_reads_retry_after_header_from_response() -> None:
    """A 429's Retry-After header reaches RateLimited.retry_after."""
    handler = answer(429, {"message": "Rate limit exceeded."}, headers={"Retry-After": "5"})
    with pytest.raises(errors.RateLimited) as caught:
        make_client(handler).distribute_file(PROJECT, UPLOAD)
    assert caught.value.retry_after == 5.0


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), False),
        (httpx.ConnectTimeout("timed out"), False),
        (httpx.WriteError("[Errno 104] Connection reset by peer"), False),
        (httpx.ReadTimeout("timed out"), True),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), True),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), True),
    ],
    ids=[
        "refused",
        "connect-timeout",
        "reset-while-sending",
        "read-timeout",
        "reset-after-send",
        "dropped",
    ],
)
def test_transport_failure_says_whether_request_may_have_landed(exc: Exception, sent: bool) -> None:
    """Connect and write failures did not send the request; read failures may have."""
    with pytest.raises(errors.TransportError) as caught:
        make_client(raising(exc)).distribute_file(PROJECT, UPLOAD)
    assert caught.value.sent is sent
    assert "POST /projects/distribute-file" in str(caught.value)
    expected = "may have reached Streampixel" if sent else "did not reach Streampixel"
    assert expected in str(caught.value)


def test_invalid_base_url_is_a_config_error_naming_api_url() -> None:
    """A base URL that is not http(s) fails at construction, naming apiUrl."""
    with pytest.raises(errors.ConfigError, match="apiUrl"):
        StreampixelClient(KEY, USER, base_url="ftp://example.com")


def test_api_key_absent_from_client_and_request_reprs() -> None:
    """Neither the client's repr nor a request model's repr shows the key."""
    from pydantic import SecretStr

    from streampixel_pulumi.models import DistributeRequest

    client = make_client(answer(200, {}))
    request = DistributeRequest(
        apiKey=SecretStr(KEY), userId=USER, projectId=PROJECT, uploadId=UPLOAD
    )
    for text in (repr(client), str(client), repr(request), str(request)):
        assert KEY not in text


def test_api_key_absent_from_error_repr_and_traceback_when_server_echoes_it() -> None:
    """A server message that echoes the key is redacted before it reaches the error."""
    handler = answer(401, {"message": f"Unauthorized: Invalid API Key {KEY}"})
    with pytest.raises(errors.AuthError) as caught:
        make_client(handler).distribute_file(PROJECT, UPLOAD)
    rendered = "".join(traceback.format_exception(caught.value))
    assert KEY not in rendered
    assert KEY not in repr(caught.value)
    assert "***" in str(caught.value)


def test_api_key_absent_from_transport_error_of_get_endpoint() -> None:
    """A failed GET (key in its query string) never shows the URL or the key."""
    exc = httpx.ConnectError(f"cannot connect to {DEFAULT_BASE_URL}?apikey={KEY}")
    with pytest.raises(errors.TransportError) as caught:
        make_client(raising(exc)).projects_status()
    rendered = "".join(traceback.format_exception(caught.value))
    assert KEY not in rendered
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_api_key_absent_from_httpx_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    """httpx's INFO request lines (which hold GET URLs) are silenced by the client."""
    caplog.set_level(logging.DEBUG)
    client = make_client(answer(200, load("user_stats.json")))
    client.user_stats(PROJECT)
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    ("body", "effect_unknown"),
    [
        ({"success": False, "message": "Queue full"}, False),
        ({}, True),
        ({"success": True, "uploadId": "someone-else"}, True),
    ],
    ids=["success-false", "empty-object", "other-upload"],
)
def test_unexpected_answer_warns_it_may_have_taken_effect_unless_it_says_not(
    body: Any, effect_unknown: bool
) -> None:
    """Only an answer that itself says nothing was triggered drops the may-have-landed warning."""
    with pytest.raises(errors.UnexpectedResponse) as caught:
        make_client(answer(200, body)).distribute_file(PROJECT, UPLOAD)
    assert caught.value.effect_unknown is effect_unknown
    assert ("unknown whether the request took effect" in str(caught.value)) is effect_unknown
