"""The webhook receiver over real HTTP on 127.0.0.1: hook endpoint, read API, restart and CLI."""

from __future__ import annotations

import hmac
import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streampixel_pulumi.status import StatusClient
from streampixel_pulumi.webhooks import __main__ as cli
from streampixel_pulumi.webhooks import events as ev
from streampixel_pulumi.webhooks.server import ReceiverServer
from tests.fixtures_receiver import PROJECT_ID, UPLOAD_ID, deliver, envelope, reader

UP = ev.BUILD_UPLOADED
DOWN = ev.BUILD_DOWNLOADING
EXTRACT = ev.BUILD_EXTRACTING
SAVE = ev.BUILD_SAVING
DIST = ev.BUILD_DISTRIBUTING
OK = ev.BUILD_APPROVED
REJ = ev.BUILD_REJECTED


def _post(
    server: ReceiverServer, content: bytes | Iterator[bytes], **kwargs: Any
) -> httpx.Response:
    with httpx.Client(timeout=10.0) as http:
        return http.post(server.hook_url, content=content, **kwargs)


def _upload(server: ReceiverServer, upload_id: str = UPLOAD_ID, **params: str) -> httpx.Response:
    with reader(server) as http:
        return http.get(f"/uploads/{upload_id}", params=params)


# --- the hook endpoint -------------------------------------------------------------------------


def test_wrong_token_is_indistinguishable_from_an_unknown_path(
    webhook_receiver: ReceiverServer,
) -> None:
    """A wrong hook token gets exactly the 404 an unknown path gets, and stores nothing."""
    body = envelope(SAVE)
    with httpx.Client(base_url=webhook_receiver.url, timeout=10.0) as http:
        wrong = http.post("/hooks/not-the-token", json=body)
        unknown = http.post("/no/such/path", json=body)
        bad_unicode = http.post("/hooks/%C3%A9%ED%A0%80", json=body)
    for answer in (wrong, bad_unicode):
        assert answer.status_code == unknown.status_code == 404
        assert answer.content == unknown.content
        assert sorted(answer.headers.keys()) == sorted(unknown.headers.keys())
    assert _upload(webhook_receiver).status_code == 404


def test_tokens_are_compared_in_constant_time(
    webhook_receiver: ReceiverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both the hook token and the read token are checked with hmac.compare_digest."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(given: Any, expected: Any) -> bool:
        calls.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with httpx.Client(base_url=webhook_receiver.url, timeout=10.0) as http:
        http.post("/hooks/guess", json=envelope(SAVE))
        http.get("/uploads/u", headers={"Authorization": "Bearer guess"})
    hook = webhook_receiver.hook_token.get_secret_value().encode()
    read = webhook_receiver.read_token.get_secret_value().encode()
    assert (b"guess", hook) in calls
    assert (b"guess", read) in calls


@pytest.mark.parametrize("event", ev.EVENTS, ids=ev.EVENTS)
def test_every_documented_event_is_accepted_and_stored(
    webhook_receiver: ReceiverServer, event: str
) -> None:
    """Each documented event is answered 200 and appears in the project's events."""
    deliver(webhook_receiver, envelope(event))
    with reader(webhook_receiver) as http:
        events = http.get(f"/projects/{PROJECT_ID}/events").json()["events"]
    assert [item["event"] for item in events] == [event]


def test_unknown_event_is_stored_not_rejected(webhook_receiver: ReceiverServer) -> None:
    """An event name the docs do not list is stored and shown, without changing the state."""
    deliver(
        webhook_receiver, envelope(SAVE), envelope("build.archived", second=5, status="Archived")
    )
    answer = _upload(webhook_receiver).json()
    assert answer["state"] == ev.READY
    assert [item["event"] for item in answer["events"]] == [SAVE, "build.archived"]


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", 400),
        (b"{not json", 400),
        (b"\xff\xfe\x00garbage", 400),
        (_deep(30_000), 400),
        (b"[1, 2]", 422),
        (b'"a string"', 422),
        (json.dumps({**envelope(SAVE), "projectId": 664}).encode(), 422),
        (json.dumps({**envelope(SAVE), "timestamp": "soon"}).encode(), 422),
        (json.dumps({**envelope(SAVE), "timestamp": "9999-12-31T23:59:59-05:00"}).encode(), 422),
        (json.dumps({k: v for k, v in envelope(SAVE).items() if k != "event"}).encode(), 422),
        (json.dumps({**envelope(SAVE), "timestamp": 1e308}).encode(), 422),
        (json.dumps({**envelope(REJ), "objection": "\ud800 x"}).encode(), 400),
    ],
    ids=[
        "empty",
        "not-json",
        "not-utf8",
        "deeply-nested",
        "array",
        "string",
        "project-number",
        "timestamp-text",
        "timestamp-overflow",
        "event-missing",
        "timestamp-huge-number",
        "lone-surrogate",
    ],
)
def test_malformed_body_gets_4xx_with_message(
    webhook_receiver: ReceiverServer, content: bytes, status: int
) -> None:
    """A malformed delivery is answered 4xx with a JSON message, never 5xx, and not stored."""
    answer = _post(webhook_receiver, content, headers={"Content-Type": "application/json"})
    assert answer.status_code == status
    assert isinstance(answer.json()["message"], str)
    with reader(webhook_receiver) as http:
        assert http.get(f"/projects/{PROJECT_ID}/events").json()["events"] == []


def test_validation_message_names_fields_without_echoing_values(
    webhook_receiver: ReceiverServer,
) -> None:
    """The 422 message names the bad field but does not repeat the value sent."""
    body = {**envelope(SAVE), "uploadId": ["SECRET-LOOKING-VALUE"]}
    answer = _post(webhook_receiver, json.dumps(body).encode())
    assert answer.status_code == 422
    assert "uploadId" in answer.json()["message"]
    assert "SECRET-LOOKING-VALUE" not in answer.text


def test_huge_body_is_refused_with_413(tmp_path: Path) -> None:
    """Bodies over max_body_bytes get 413, whether their length is declared or streamed."""
    with ReceiverServer(tmp_path / "w.db", max_body_bytes=1000) as server:
        declared = _post(server, b" " * 5000 + json.dumps(envelope(SAVE)).encode())
        streamed = _post(server, iter([b" " * 600, b" " * 600, b"{}"]))
        fits = _post(server, json.dumps(envelope(SAVE)).encode())
    assert declared.status_code == streamed.status_code == 413
    assert "1000 bytes" in declared.json()["message"]
    assert fits.status_code == 200


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_FIELD_VALUES = {
    "event": st.sampled_from([*ev.EVENTS, "build.new", ""]) | _JSON,
    "projectId": st.just(PROJECT_ID) | _JSON,
    "uploadId": st.just(UPLOAD_ID) | _JSON,
    "fileUrl": st.none() | _JSON,
    "status": st.sampled_from(["Approved", "Reject", "pending"]) | _JSON,
    "objection": st.none() | _JSON,
    "timestamp": st.sampled_from(
        ["2025-03-01T12:00:00Z", "2025-03-01", "0001-01-01T00:00:00+01:00"]
    )
    | _JSON,
}
_BODIES = st.fixed_dictionaries({}, optional=_FIELD_VALUES).map(
    lambda d: json.dumps(d).encode()
) | st.binary(max_size=200)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=_BODIES)
def test_no_delivery_body_causes_a_5xx(webhook_receiver: ReceiverServer, content: bytes) -> None:
    """Whatever body arrives, the answer is 200 or a 4xx with a message, never a 5xx."""
    answer = _post(webhook_receiver, content)
    assert answer.status_code == 200 or 400 <= answer.status_code < 500
    assert "message" in answer.json()


def test_duplicate_delivery_is_stored_once(webhook_receiver: ReceiverServer) -> None:
    """Delivering the same envelope twice answers 200 both times and stores one event."""
    with httpx.Client(timeout=10.0) as http:
        first = http.post(webhook_receiver.hook_url, json=envelope(SAVE))
        second = http.post(webhook_receiver.hook_url, json=envelope(SAVE))
    assert (first.json()["stored"], second.json()["stored"]) == (True, False)
    assert len(_upload(webhook_receiver).json()["events"]) == 1


def test_out_of_order_delivery_derives_the_right_state(webhook_receiver: ReceiverServer) -> None:
    """Approved delivered before Distribute, but stamped after it, still reads as live."""
    deliver(
        webhook_receiver,
        envelope(OK, second=30),
        envelope(SAVE, second=10),
        envelope(DIST, second=20),
        envelope(UP, second=0),
    )
    answer = _upload(webhook_receiver).json()
    assert answer["state"] == ev.LIVE
    assert [item["event"] for item in answer["events"]] == [UP, SAVE, DIST, OK]


@pytest.mark.parametrize(
    ("names", "state"),
    [
        ((UP,), ev.QUEUED),
        ((UP, DOWN), ev.PROCESSING),
        ((UP, DOWN, EXTRACT), ev.PROCESSING),
        ((UP, DOWN, EXTRACT, SAVE), ev.READY),
        ((SAVE, OK), ev.READY),
        ((SAVE, OK, DIST), ev.DISTRIBUTING),
        ((SAVE, OK, DIST, OK), ev.LIVE),
        ((UP, DOWN, EXTRACT, SAVE, DIST, OK), ev.LIVE),
    ],
    ids=[
        "queued",
        "downloading",
        "extracting",
        "saved-ready",
        "approved-ready",
        "distributing",
        "released-live",
        "auto-release-live",
    ],
)
def test_read_api_reports_each_derived_state(
    webhook_receiver: ReceiverServer, names: tuple[str, ...], state: str
) -> None:
    """GET /uploads/{id} reports the state derived from the delivered lifecycle."""
    deliver(webhook_receiver, *(envelope(name, second=i) for i, name in enumerate(names)))
    answer = _upload(webhook_receiver).json()
    assert (answer["upload_id"], answer["project_id"]) == (UPLOAD_ID, PROJECT_ID)
    assert (answer["state"], answer["objection"]) == (state, None)


def test_read_api_reports_rejection_with_objection(webhook_receiver: ReceiverServer) -> None:
    """A rejected upload reads as rejected with the objection, per event too."""
    deliver(
        webhook_receiver,
        envelope(UP, second=0),
        envelope(DOWN, second=1),
        envelope(REJ, second=2, objection="Executable not found in zip"),
    )
    answer = _upload(webhook_receiver).json()
    assert (answer["state"], answer["objection"]) == (ev.REJECTED, "Executable not found in zip")
    last = answer["events"][-1]
    assert set(last) == {"event", "status", "objection", "timestamp", "received_at"}
    assert (last["status"], last["objection"]) == (ev.STATUS_REJECT, "Executable not found in zip")
    assert last["timestamp"] == "2025-03-01T12:00:02Z"


def test_read_api_filters_by_project_and_since(webhook_receiver: ReceiverServer) -> None:
    """project_id and since narrow the events a state is derived from."""
    deliver(
        webhook_receiver,
        envelope(DIST, second=0),
        envelope(OK, second=1),
        envelope(DIST, second=60),
        envelope(REJ, second=61, project_id="someone-else", objection="x"),
    )
    assert _upload(webhook_receiver, project_id=PROJECT_ID).json()["state"] == ev.DISTRIBUTING
    assert _upload(webhook_receiver).json()["state"] == ev.REJECTED
    later = _upload(webhook_receiver, since="2025-03-01T12:01:00Z", project_id=PROJECT_ID).json()
    assert [item["event"] for item in later["events"]] == [DIST]
    none = _upload(webhook_receiver, since="2025-03-02T00:00:00Z")
    assert none.status_code == 404
    assert _upload(webhook_receiver, since="tomorrow").status_code == 422


@pytest.mark.parametrize(
    "since",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
    ids=["before-year-1-in-utc", "after-year-9999-in-utc"],
)
def test_since_out_of_range_in_utc_is_422_not_500(
    webhook_receiver: ReceiverServer, since: str
) -> None:
    """A since that cannot be converted to UTC is a client error, not a server failure."""
    deliver(webhook_receiver, envelope(DIST))
    answer = _upload(webhook_receiver, since=since)
    assert answer.status_code == 422
    assert answer.json()["message"].startswith("query.since:")


def test_unknown_upload_is_404_with_message(webhook_receiver: ReceiverServer) -> None:
    """An upload with no events is a 404 whose message says so."""
    answer = _upload(webhook_receiver, "665a00000000000000000000")
    assert answer.status_code == 404
    assert answer.json() == {"message": ev.NO_EVENTS_MESSAGE}


def test_restart_on_the_same_file_loses_nothing(tmp_path: Path) -> None:
    """Events stored before a stop are read back by a new server on the same SQLite file."""
    path = tmp_path / "webhooks.db"
    with ReceiverServer(path, read_token="read-token-0123456789") as first:
        deliver(first, envelope(SAVE, second=0), envelope(DIST, second=1))
        before = _upload(first).json()
    with ReceiverServer(path, read_token="read-token-0123456789") as second:
        deliver(second, envelope(OK, second=2))
        after = _upload(second).json()
    assert after["events"][:2] == before["events"]
    assert after["state"] == ev.LIVE


# --- the read API ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "wrong", "other-scheme", "empty"],
)
@pytest.mark.parametrize(
    "path", [f"/uploads/{UPLOAD_ID}", f"/projects/{PROJECT_ID}/events?limit=0"]
)
def test_read_api_requires_the_bearer_token(
    webhook_receiver: ReceiverServer, headers: dict[str, str], path: str
) -> None:
    """Without the right bearer token the read API answers 401, before validating anything."""
    deliver(webhook_receiver, envelope(SAVE))
    with httpx.Client(base_url=webhook_receiver.url, timeout=10.0) as http:
        answer = http.get(path, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "message" in answer.json()


def test_hook_token_does_not_open_the_read_api(webhook_receiver: ReceiverServer) -> None:
    """The hook token (public to Streampixel) is not a read token."""
    hook = webhook_receiver.hook_token.get_secret_value()
    with httpx.Client(base_url=webhook_receiver.url, timeout=10.0) as http:
        answer = http.get(f"/uploads/{UPLOAD_ID}", headers={"Authorization": f"Bearer {hook}"})
    assert answer.status_code == 401


def test_project_events_are_latest_first_with_limit(webhook_receiver: ReceiverServer) -> None:
    """GET /projects/{id}/events returns the newest events first, at most `limit`."""
    deliver(
        webhook_receiver,
        *(envelope(DOWN, second=i, upload_id=f"u{i}") for i in range(4)),
        envelope(SAVE, second=50, project_id="other"),
    )
    with reader(webhook_receiver) as http:
        answer = http.get(f"/projects/{PROJECT_ID}/events", params={"limit": 2}).json()
        too_many = http.get(f"/projects/{PROJECT_ID}/events", params={"limit": 5000})
    assert answer["project_id"] == PROJECT_ID
    assert [item["upload_id"] for item in answer["events"]] == ["u3", "u2"]
    assert too_many.status_code == 422
    assert "limit" in too_many.json()["message"]


def test_healthz_needs_no_token(webhook_receiver: ReceiverServer) -> None:
    """GET /healthz answers 200 without authentication."""
    answer = httpx.get(f"{webhook_receiver.url}/healthz", timeout=10.0)
    assert answer.json() == {"status": "ok"}


def test_no_api_docs_are_served(webhook_receiver: ReceiverServer) -> None:
    """The generated OpenAPI schema and docs pages are switched off."""
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert httpx.get(f"{webhook_receiver.url}{path}", timeout=10.0).status_code == 404


# --- secrets -----------------------------------------------------------------------------------


def test_server_repr_hides_tokens(webhook_receiver: ReceiverServer) -> None:
    """The server's repr and its token attributes do not show the tokens."""
    for secret in (webhook_receiver.hook_token, webhook_receiver.read_token):
        value = secret.get_secret_value()
        assert value not in repr(webhook_receiver)
        assert value not in repr(secret)
        assert value not in str(secret)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The test's own httpx client logs the URLs it calls; only server-side lines count.
        if not record.name.startswith(("httpx", "httpcore")):
            self.lines.append(self.format(record))


def test_tokens_are_absent_from_server_logs(webhook_receiver: ReceiverServer) -> None:
    """With every server logger at DEBUG (access log included), no line contains a token."""
    collect = _Collect()
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access", "streampixel_pulumi"]
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
        logging.getLogger(name).addHandler(collect)
    try:
        deliver(webhook_receiver, envelope(SAVE), envelope(SAVE))
        _post(webhook_receiver, b"{broken")
        _post(webhook_receiver, b" " * 100_000)
        with httpx.Client(base_url=webhook_receiver.url, timeout=10.0) as http:
            http.post("/hooks/wrong-token", json=envelope(SAVE))
        _upload(webhook_receiver)
    finally:
        for name in names:
            logging.getLogger(name).removeHandler(collect)
            logging.getLogger(name).setLevel(saved[name])
    text = "\n".join(collect.lines)
    assert "/hooks/[redacted]" in text
    assert "stored Envelope(event='build.saving'" in text
    for secret in (webhook_receiver.hook_token, webhook_receiver.read_token):
        assert secret.get_secret_value() not in text


# --- the console script ------------------------------------------------------------------------


def test_cli_help_lists_options_and_variables() -> None:
    """`python -m streampixel_pulumi.webhooks --help` documents options and token variables."""
    done = subprocess.run(
        [sys.executable, "-m", "streampixel_pulumi.webhooks", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0
    for word in ("--host", "--port", "--db", "--hook-token", "--read-token"):
        assert word in done.stdout
    assert cli.HOOK_TOKEN_ENV in done.stdout
    assert cli.READ_TOKEN_ENV in done.stdout


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        ([], {}, "pass --hook-token or set STREAMPIXEL_WEBHOOK_TOKEN"),
        (["--hook-token", "h" * 20], {}, "pass --read-token or set STREAMPIXEL_READ_TOKEN"),
        ([], {"STREAMPIXEL_WEBHOOK_TOKEN": "h" * 20}, "--read-token or set STREAMPIXEL_READ_TOKEN"),
        (["--hook-token", "short", "--read-token", "r" * 20], {}, "at least 16"),
        (["--hook-token", "h" * 20 + "/x", "--read-token", "r" * 20], {}, "part of a URL"),
        (["--hook-token", "s" * 20, "--read-token", "s" * 20], {}, "must differ"),
    ],
    ids=["no-tokens", "no-read-option", "no-read-variable", "short", "slash", "same"],
)
def test_cli_refuses_missing_or_weak_tokens(
    argv: list[str],
    env: dict[str, str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Missing or unusable tokens stop the CLI with exit 2 and a message naming option and variable."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert expected in err
    for token in ("h" * 20, "s" * 20, "r" * 20):
        assert token not in err


def _lines(stream: Any, into: queue.Queue[str], seen: list[str]) -> None:
    for line in stream:
        seen.append(line)
        into.put(line)


def test_cli_serves_and_never_prints_tokens(tmp_path: Path) -> None:
    """The console script stores deliveries, serves them, and no output line shows a token."""
    hook, read = "hook-token-ABCDEFGHIJKLMNOP", "read-token-QRSTUVWXYZ012345"
    env = {**os.environ, cli.HOOK_TOKEN_ENV: hook, cli.READ_TOKEN_ENV: read}
    argv = ["--port", "0", "--db", str(tmp_path / "cli.db"), "--log-level", "debug"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streampixel_pulumi.webhooks", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    pump = threading.Thread(target=_lines, args=(proc.stdout, lines, seen), daemon=True)
    pump.start()
    try:
        url = None
        while url is None:
            found = re.search(r"running on (http://127\.0\.0\.1:\d+)", lines.get(timeout=20))
            url = found.group(1) if found else None
        with httpx.Client(base_url=url, timeout=10.0) as http:
            assert http.post(f"/hooks/{hook}", json=envelope(SAVE)).status_code == 200
            assert http.post("/hooks/wrong-token", json=envelope(SAVE)).status_code == 404
            assert http.post(f"/hooks/{hook}", content=b"{bad").status_code == 400
        with StatusClient(url, read) as client:
            status = client.upload(UPLOAD_ID)
        assert status is not None
        assert status.state == ev.READY
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        pump.join(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
    output = "".join(seen)
    assert proc.returncode == 0, output
    assert "stored Envelope" in output
    assert hook not in output
    assert read not in output
