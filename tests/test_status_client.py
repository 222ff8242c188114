"""StatusClient: reading upload states from the receiver, and its errors, without leaking the token."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from streampixel_pulumi import errors, status
from streampixel_pulumi.status import StatusClient
from streampixel_pulumi.webhooks import events as ev
from streampixel_pulumi.webhooks.server import ReceiverServer
from tests.fixtures_receiver import PROJECT_ID, T0, UPLOAD_ID, deliver, envelope

TOKEN = "read-token-that-must-not-leak"


def _client(server: ReceiverServer) -> StatusClient:
    return StatusClient(server.url, server.read_token)


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> StatusClient:
    return StatusClient("http://receiver.test", TOKEN, transport=httpx.MockTransport(handler))


def _shows(exc: BaseException, secret: str) -> bool:
    text = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)
    return secret in text


def test_exported_names_exist() -> None:
    """Every name in status.__all__ exists (httpx's exported-names check)."""
    for name in status.__all__:
        assert hasattr(status, name), name


def test_status_and_light_modules_import_no_server_framework() -> None:
    """Importing the status client or the webhooks package loads no FastAPI, Starlette or uvicorn."""
    code = (
        "import json, sys, streampixel_pulumi.status, streampixel_pulumi.webhooks;"
        "import streampixel_pulumi.webhooks.events, streampixel_pulumi.webhooks.store;"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    for module in ("fastapi", "starlette", "uvicorn", "streampixel_pulumi.webhooks.receiver"):
        assert module not in loaded, module


# --- against the real receiver -----------------------------------------------------------------


def test_upload_found_returns_state_and_events(webhook_receiver: ReceiverServer) -> None:
    """A known upload comes back as UploadStatus with its derived state and events."""
    deliver(
        webhook_receiver,
        envelope(ev.BUILD_SAVING, second=0),
        envelope(ev.BUILD_DISTRIBUTING, second=1),
        envelope(ev.BUILD_APPROVED, second=2),
    )
    with _client(webhook_receiver) as client:
        found = client.upload(UPLOAD_ID)
    assert found is not None
    assert (found.upload_id, found.project_id, found.state) == (UPLOAD_ID, PROJECT_ID, ev.LIVE)
    assert found.terminal
    assert [item.event for item in found.events] == [
        ev.BUILD_SAVING,
        ev.BUILD_DISTRIBUTING,
        ev.BUILD_APPROVED,
    ]
    assert found.events[0].timestamp == T0
    assert found.events[0].received_at.tzinfo is not None


def test_upload_rejected_carries_objection(webhook_receiver: ReceiverServer) -> None:
    """A rejected upload reports its objection."""
    deliver(webhook_receiver, envelope(ev.BUILD_REJECTED, objection="Missing .exe"))
    with _client(webhook_receiver) as client:
        found = client.upload(UPLOAD_ID)
    assert found is not None
    assert (found.state, found.objection) == (ev.REJECTED, "Missing .exe")


def test_upload_not_found_returns_none(webhook_receiver: ReceiverServer) -> None:
    """An upload the receiver never heard of is None, not an error."""
    with _client(webhook_receiver) as client:
        assert client.upload("665a00000000000000000000") is None


def test_upload_since_and_project_narrow_the_events(webhook_receiver: ReceiverServer) -> None:
    """since hides an earlier release of the same upload; project_id hides other projects."""
    deliver(
        webhook_receiver,
        envelope(ev.BUILD_DISTRIBUTING, second=0),
        envelope(ev.BUILD_APPROVED, second=1),
        envelope(ev.BUILD_DISTRIBUTING, second=100),
    )
    with _client(webhook_receiver) as client:
        assert client.upload(UPLOAD_ID, since=T0 + timedelta(seconds=200)) is None
        redistributing = client.upload(UPLOAD_ID, since=T0 + timedelta(seconds=50))
        assert client.upload(UPLOAD_ID, project_id="another-project") is None
    assert redistributing is not None
    assert redistributing.state == ev.DISTRIBUTING


def test_project_events_newest_first(webhook_receiver: ReceiverServer) -> None:
    """project_events returns the project's latest events, newest first, up to limit."""
    deliver(
        webhook_receiver,
        *(envelope(ev.BUILD_UPLOADED, second=i, upload_id=f"u{i}") for i in range(3)),
    )
    with _client(webhook_receiver) as client:
        latest = client.project_events(PROJECT_ID, limit=2)
    assert [item.upload_id for item in latest] == ["u2", "u1"]


def test_wrong_token_raises_auth_error_without_the_token(webhook_receiver: ReceiverServer) -> None:
    """A wrong read token raises AuthError whose message, repr and traceback omit the token."""
    with (
        StatusClient(webhook_receiver.url, TOKEN) as client,
        pytest.raises(errors.AuthError) as raised,
    ):
        client.upload(UPLOAD_ID)
    assert raised.value.status_code == 401
    assert "statusToken" in str(raised.value)
    assert not _shows(raised.value, TOKEN)
    assert TOKEN not in repr(client)


def test_receiver_down_raises_transport_error_not_sent(tmp_path: Path) -> None:
    """A receiver that is not listening raises TransportError(sent=False)."""
    with ReceiverServer(tmp_path / "gone.db") as server:
        url = server.url
    with StatusClient(url, TOKEN) as client, pytest.raises(errors.TransportError) as raised:
        client.upload(UPLOAD_ID)
    assert raised.value.sent is False
    assert not _shows(raised.value, TOKEN)


def test_status_url_pointing_at_a_wrong_path_is_not_found(webhook_receiver: ReceiverServer) -> None:
    """A status URL with an extra path gives NotFound naming statusUrl, not a silent None."""
    client = StatusClient(f"{webhook_receiver.url}/hooks", webhook_receiver.read_token)
    with client, pytest.raises(errors.NotFound) as raised:
        client.upload(UPLOAD_ID)
    assert "statusUrl" in str(raised.value)


# --- unit pieces over httpx.MockTransport ------------------------------------------------------


def test_sends_bearer_token_and_quotes_ids() -> None:
    """The token goes in the Authorization header and ids are path-quoted."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"message": ev.NO_EVENTS_MESSAGE})

    with _mock(handler) as client:
        assert client.upload("a/b?c", project_id="p 1") is None
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[0].url.raw_path == b"/uploads/a%2Fb%3Fc?project_id=p+1"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            httpx.Response(401, json={"message": "Missing or invalid bearer token"}),
            errors.AuthError,
        ),
        (httpx.Response(403, json={"message": "Forbidden"}), errors.AccessDenied),
        (httpx.Response(404, text="<html>nginx</html>"), errors.NotFound),
        (httpx.Response(422, json={"message": "since: bad"}), errors.BadRequest),
        (httpx.Response(429, headers={"Retry-After": "3"}), errors.RateLimited),
        (httpx.Response(500, json={"message": "boom"}), errors.ServerError),
        (httpx.Response(502, text="Bad Gateway"), errors.ServerError),
        (httpx.Response(200, text="<html>login page</html>"), errors.UnexpectedResponse),
        (httpx.Response(200, json={"unexpected": True}), errors.UnexpectedResponse),
        (httpx.Response(302, headers={"Location": "/login"}), errors.UnexpectedResponse),
    ],
    ids=[
        "401",
        "403",
        "404-html",
        "422",
        "429",
        "500",
        "502-text",
        "200-html",
        "200-wrong-shape",
        "302",
    ],
)
def test_http_failures_map_to_error_types(response: httpx.Response, error: type[Exception]) -> None:
    """Each kind of failing answer raises its streampixel_pulumi.errors type."""
    with _mock(lambda request: response) as client, pytest.raises(error) as raised:
        client.upload(UPLOAD_ID)
    assert not _shows(raised.value, TOKEN)


def test_rate_limited_reads_retry_after() -> None:
    """A 429's Retry-After header becomes RateLimited.retry_after."""
    client = _mock(lambda request: httpx.Response(429, headers={"Retry-After": "7"}))
    with client, pytest.raises(errors.RateLimited) as raised:
        client.upload(UPLOAD_ID)
    assert raised.value.retry_after == 7.0


def test_token_echoed_by_a_server_is_masked() -> None:
    """If an answer's message repeats the token, the error shows [secure] instead."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": f"bad token {TOKEN}"})

    with _mock(handler) as client, pytest.raises(errors.AuthError) as raised:
        client.upload(UPLOAD_ID)
    assert raised.value.api_message == "bad token [secure]"
    assert not _shows(raised.value, TOKEN)


@pytest.mark.parametrize(
    ("failure", "sent"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow connect"), False),
        (httpx.ReadTimeout("slow answer"), True),
        (httpx.RemoteProtocolError("cut"), True),
    ],
    ids=["connect-error", "connect-timeout", "read-timeout", "protocol-error"],
)
def test_transport_failures_raise_transport_error(failure: httpx.HTTPError, sent: bool) -> None:
    """Connection failures raise TransportError, with sent telling if the request went out."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with _mock(handler) as client, pytest.raises(errors.TransportError) as raised:
        client.upload(UPLOAD_ID)
    assert raised.value.sent is sent
    assert "http://receiver.test" not in str(raised.value)


@pytest.mark.parametrize(
    "url", ["receiver.test", "ftp://receiver.test", ""], ids=["bare", "ftp", "empty"]
)
def test_invalid_base_url_is_a_config_error(url: str) -> None:
    """A status URL that is not http(s) raises ConfigError naming streampixel:statusUrl."""
    with pytest.raises(errors.ConfigError) as raised:
        StatusClient(url, TOKEN)
    assert raised.value.key == "streampixel:statusUrl"


def test_empty_token_and_ids_are_refused() -> None:
    """An empty token is a ConfigError; an empty upload or project id is an InputError."""
    with pytest.raises(errors.ConfigError):
        StatusClient("http://receiver.test", "")
    with _mock(lambda request: httpx.Response(200)) as client:
        with pytest.raises(errors.InputError):
            client.upload("")
        with pytest.raises(errors.InputError):
            client.project_events("")


def test_repr_shows_url_not_token() -> None:
    """The client's repr names the receiver URL and never the token."""
    client = StatusClient("http://receiver.test/", TOKEN)
    assert repr(client) == "StatusClient(base_url='http://receiver.test')"
    assert TOKEN not in repr(client.__dict__)
    client.close()
