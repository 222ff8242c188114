"""Unit tests of BuildReleaseProvider with Streampixel faked by an httpx.MockTransport."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

from streampixel_pulumi.errors import (
    AccessDenied,
    AuthError,
    ConfigError,
    DistributionRejected,
    InputError,
    NotFound,
    ProjectNotFound,
    ServerError,
    TransportError,
    UnexpectedResponse,
    UploadNotFound,
    WaitTimeout,
)
from streampixel_pulumi.provider import HISTORY_LIMIT, BuildReleaseProvider

KEY = "sk-unit-4f9c2d7e1a"
USER = "5f00000000000000000000a1"
PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"
API = "http://streampixel.test/pixelStripeApi"
DISTRIBUTE = "/pixelStripeApi/projects/distribute-file"

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeStreampixel:
    """Answers distribute-file from a script of answers, then with success; records requests."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            body = json.loads(request.content)
            self.requests.append({"path": request.url.path, "body": body})
            self.times.append(time.monotonic())
            answer = self.answers.pop(0) if self.answers else None
        if callable(answer):
            return answer(request)
        if answer is not None:
            return answer
        return httpx.Response(
            200,
            json={
                "success": True,
                "uploadId": body["uploadId"],
                "region": "europe",
                "message": "File distribution triggered successfully",
            },
        )


def error(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message}, headers=headers)


def make_provider(
    api: FakeStreampixel,
    tmp_path: Path,
    *,
    configure: bool = True,
    stack: dict[str, str] | None = None,
) -> BuildReleaseProvider:
    provider = BuildReleaseProvider(
        transport=httpx.MockTransport(api),
        environ={"STREAMPIXEL_CACHE_DIR": str(tmp_path / "cache")},
    )
    if configure:
        config = {
            "streampixel:apiKey": KEY,
            "streampixel:userId": USER,
            "streampixel:apiUrl": API,
            "streampixel:rateLimitSeconds": "0.01",
            "streampixel:progressSeconds": "5",
        }
        config.update(stack or {})
        provider.configure(ConfigureRequest(Config(config, project_name="app")))
    return provider


def inputs(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"project_id": PROJECT, "upload_id": "u1", "__provider": "blob"}
    values.update(changes)
    return values


def released(provider: BuildReleaseProvider, upload_id: str = "u1", **extra: Any) -> dict[str, Any]:
    """Outputs of a create, as the engine would keep them in state."""
    result = provider.create(inputs(upload_id=upload_id, **extra))
    assert result.outs is not None
    return result.outs


def test_plain_provider_has_empty_dict() -> None:
    """The instance a program pickles carries no state, credentials or client."""
    assert BuildReleaseProvider().__dict__ == {}


def test_check_returns_inputs_and_failures_without_network_or_credentials(
    tmp_path: Path,
) -> None:
    """check works unconfigured, sends nothing and reports failures as CheckFailures."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path, configure=False)
    result = provider.check({}, inputs(upload_id="has space", triggers=[Unknown()]))
    assert result.inputs["project_id"] == PROJECT
    assert [(f.property, "whitespace" in f.reason) for f in result.failures] == [
        ("upload_id", True)
    ]
    assert api.requests == []


def test_diff_is_explicit_and_ignores_provider_blob(tmp_path: Path) -> None:
    """A new __provider blob alone is no change; changes is never None."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path)
    olds = released(provider)
    result = provider.diff(PROJECT, olds, inputs(__provider="new-blob"))
    assert result.changes is False
    assert result.replaces == []
    assert len(api.requests) == 1  # only the create above


def test_diff_replaces_on_project_change(tmp_path: Path) -> None:
    """Changing project_id asks for a create-before-delete replacement."""
    provider = make_provider(FakeStreampixel(), tmp_path)
    olds = released(provider)
    result = provider.diff(PROJECT, olds, inputs(project_id="664f00000000000000000002"))
    assert (result.changes, result.replaces, result.delete_before_replace) == (
        True,
        ["project_id"],
        False,
    )


def test_create_sends_one_distribution_and_returns_every_output(tmp_path: Path) -> None:
    """create makes one accepted call and returns all outputs with the id = project_id."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path)
    result = provider.create(inputs(triggers=["v1"], deadline_seconds=60.0))
    assert result.id == PROJECT
    assert [r["path"] for r in api.requests] == [DISTRIBUTE]
    assert api.requests[0]["body"] == {
        "apiKey": KEY,
        "userId": USER,
        "projectId": PROJECT,
        "uploadId": "u1",
    }
    outs = result.outs
    assert outs is not None
    assert set(outs) == {
        "project_id",
        "upload_id",
        "previous_upload_id",
        "region",
        "status",
        "triggered_at",
        "action",
        "history",
        "message",
        "triggers",
        "deadline_seconds",
    }
    assert outs["previous_upload_id"] is None
    assert (outs["region"], outs["status"], outs["action"]) == ("europe", "triggered", "release")
    assert outs["message"] == "File distribution triggered successfully"
    assert (outs["triggers"], outs["deadline_seconds"]) == (["v1"], 60.0)
    when = datetime.fromisoformat(outs["triggered_at"])
    assert when.utcoffset() == timedelta(0)
    assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=1)
    assert outs["history"] == [
        {"upload_id": "u1", "action": "release", "triggered_at": outs["triggered_at"]}
    ]


def test_short_success_body_is_accepted_without_region(tmp_path: Path) -> None:
    """The documented short success body {"message": ...} counts as accepted."""
    api = FakeStreampixel(httpx.Response(200, json={"message": "Distribution triggered"}))
    outs = released(make_provider(api, tmp_path))
    assert outs["region"] is None
    assert outs["message"] == "Distribution triggered"


def test_update_to_new_upload_is_a_release(tmp_path: Path) -> None:
    """A never-seen upload is released, previous_upload_id names the old one."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path)
    olds = released(provider, "u1")
    outs = provider.update(PROJECT, olds, inputs(upload_id="u2")).outs
    assert outs is not None
    assert (outs["action"], outs["upload_id"], outs["previous_upload_id"]) == (
        "release",
        "u2",
        "u1",
    )
    assert [entry["upload_id"] for entry in outs["history"]] == ["u1", "u2"]
    assert [r["body"]["uploadId"] for r in api.requests] == ["u1", "u2"]


def test_update_back_to_earlier_upload_is_a_rollback(tmp_path: Path) -> None:
    """Returning to an upload in this resource's history is a rollback."""
    provider = make_provider(FakeStreampixel(), tmp_path)
    first = released(provider, "u1")
    second = provider.update(PROJECT, first, inputs(upload_id="u2")).outs
    assert second is not None
    third = provider.update(PROJECT, second, inputs(upload_id="u1")).outs
    assert third is not None
    assert (third["action"], third["previous_upload_id"]) == ("rollback", "u2")
    assert [entry["action"] for entry in third["history"]] == ["release", "release", "rollback"]


def test_update_of_triggers_only_is_a_redistribute(tmp_path: Path) -> None:
    """Same upload with new triggers distributes it again as a redistribute."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path)
    olds = released(provider, "u1", triggers=["a"])
    outs = provider.update(PROJECT, olds, inputs(triggers=["b"])).outs
    assert outs is not None
    assert (outs["action"], outs["triggers"]) == ("redistribute", ["b"])
    assert len(api.requests) == 2


def test_history_is_bounded_newest_last(tmp_path: Path) -> None:
    """History keeps the last HISTORY_LIMIT releases."""
    provider = make_provider(
        FakeStreampixel(), tmp_path, stack={"streampixel:rateLimitSeconds": "0"}
    )
    outs = released(provider, "u0")
    for number in range(1, HISTORY_LIMIT + 3):
        result = provider.update(PROJECT, outs, inputs(upload_id=f"u{number}")).outs
        assert result is not None
        outs = result
    history = outs["history"]
    assert len(history) == HISTORY_LIMIT
    assert history[-1]["upload_id"] == f"u{HISTORY_LIMIT + 2}"


def test_rate_limited_call_is_waited_out_then_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 429 is retried after the server's wait, with a progress line naming the project."""
    api = FakeStreampixel(
        error(429, "Rate limit exceeded. Try again in 2 minutes.", **{"Retry-After": "0.05"})
    )
    outs = released(make_provider(api, tmp_path))
    assert outs["status"] == "triggered"
    assert len(api.requests) == 2
    assert api.times[1] - api.times[0] >= 0.05
    err = capsys.readouterr().err
    assert f"streampixel: project {PROJECT} rate limited, retrying in" in err


def test_build_not_ready_is_retried_at_pacing_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "File has no URL" is waited out at the rate-limit interval and then succeeds."""
    api = FakeStreampixel(error(400, "File has no URL"))
    provider = make_provider(api, tmp_path, stack={"streampixel:rateLimitSeconds": "0.6"})
    outs = released(provider)
    assert outs["action"] == "release"
    assert len(api.requests) == 2
    assert api.times[1] - api.times[0] >= 0.6
    assert "build not ready yet (File has no URL), retrying in 0.6 s" in capsys.readouterr().err


def test_wait_longer_than_deadline_fails_at_once(tmp_path: Path) -> None:
    """A 429 asking for longer than the resource's deadline fails without waiting."""
    api = FakeStreampixel(error(429, "Rate limit exceeded. Try again in 2 minutes."))
    provider = make_provider(api, tmp_path)
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        provider.create(inputs(deadline_seconds=5.0))
    assert time.monotonic() - started < 3
    assert len(api.requests) == 1
    assert PROJECT in str(caught.value)


def test_stack_deadline_applies_when_resource_sets_none(tmp_path: Path) -> None:
    """streampixel:deadlineSeconds bounds the wait of every resource."""
    api = FakeStreampixel(error(429, "Rate limit exceeded. Try again in 2 minutes."))
    provider = make_provider(api, tmp_path, stack={"streampixel:deadlineSeconds": "5"})
    with pytest.raises(WaitTimeout):
        provider.create(inputs())


@pytest.mark.parametrize(
    ("answer", "kind", "fix"),
    [
        (error(401, "Unauthorized: Invalid API Key"), AuthError, "streampixel:apiKey"),
        (error(401, "Invalid User"), AuthError, "streampixel:userId"),
        (error(403, "Access denied"), AccessDenied, f"Project {PROJECT}"),
        (error(404, "Project not found"), ProjectNotFound, f"project_id {PROJECT}"),
        (error(404, "File not found in project"), UploadNotFound, "Upload u1"),
    ],
    ids=["bad-key", "bad-user", "forbidden", "no-project", "no-upload"],
)
def test_client_errors_fail_at_once_with_message_and_fix(
    tmp_path: Path, answer: httpx.Response, kind: type[Exception], fix: str
) -> None:
    """401/403/404 fail after one request, showing the server's message and what to fix."""
    api = FakeStreampixel(answer)
    with pytest.raises(kind) as caught:
        make_provider(api, tmp_path).create(inputs())
    assert len(api.requests) == 1
    text = str(caught.value)
    assert json.loads(answer.content)["message"] in text
    assert fix in text
    assert KEY not in text


def test_bare_404_points_at_api_url(tmp_path: Path) -> None:
    """A 404 without Streampixel's message (a wrong apiUrl) names streampixel:apiUrl, not the ids."""
    api = FakeStreampixel(httpx.Response(404, text="<html>Not Found</html>"))
    with pytest.raises(NotFound) as caught:
        make_provider(api, tmp_path).create(inputs())
    assert "streampixel:apiUrl" in str(caught.value)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (httpx.Response(200, json={"success": False, "message": "nope"}), UnexpectedResponse),
        (httpx.Response(200, text="<html>gateway</html>"), UnexpectedResponse),
        (error(500, "Internal server error"), ServerError),
    ],
    ids=["success-false", "html", "server-error"],
)
def test_unconfirmed_answers_are_not_acceptance_and_not_retried(
    tmp_path: Path, answer: httpx.Response, kind: type[Exception]
) -> None:
    """success false, garbage and 5xx record nothing and are never repeated."""
    api = FakeStreampixel(answer)
    with pytest.raises(kind):
        make_provider(api, tmp_path).create(inputs())
    assert len(api.requests) == 1


def test_unsent_request_is_retried(tmp_path: Path) -> None:
    """A connection that never opened is retried (nothing can have been distributed)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api = FakeStreampixel(refuse)
    outs = released(make_provider(api, tmp_path))
    assert outs["status"] == "triggered"
    assert len(api.requests) == 2


def test_lost_answer_is_not_retried(tmp_path: Path) -> None:
    """A request sent whose answer was lost may have landed: fail, never repeat."""

    def lose(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api = FakeStreampixel(lose)
    with pytest.raises(TransportError) as caught:
        make_provider(api, tmp_path).create(inputs())
    assert caught.value.sent is True
    assert len(api.requests) == 1


def test_missing_credentials_fail_before_any_request(tmp_path: Path) -> None:
    """Without key and user the create fails naming config keys and variables."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path, configure=False)
    with pytest.raises(ConfigError) as caught:
        provider.create(inputs())
    assert api.requests == []
    for name in ("streampixel:apiKey", "STREAMPIXEL_API_KEY", "streampixel:userId"):
        assert name in str(caught.value)


def test_credentials_from_environment(tmp_path: Path) -> None:
    """With no stack config, STREAMPIXEL_* variables supply credentials and endpoint."""
    api = FakeStreampixel()
    provider = BuildReleaseProvider(
        transport=httpx.MockTransport(api),
        environ={
            "STREAMPIXEL_API_KEY": KEY,
            "STREAMPIXEL_USER_ID": USER,
            "STREAMPIXEL_API_URL": API,
            "STREAMPIXEL_CACHE_DIR": str(tmp_path),
        },
    )
    provider.configure(ConfigureRequest(Config({}, project_name="app")))
    provider.create(inputs())
    assert api.requests[0]["body"]["userId"] == USER


def test_invalid_setting_fails_create_but_not_preview_refresh_or_delete(tmp_path: Path) -> None:
    """A broken setting stops distributions only; check, diff, read and delete still work."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path, stack={"streampixel:deadlineSeconds": "soon"})
    with pytest.raises(ConfigError) as caught:
        provider.create(inputs())
    assert caught.value.key == "streampixel:deadlineSeconds"
    state = {**inputs(), "history": [], "action": "release"}
    assert provider.check({}, inputs()).failures == []
    assert provider.diff(PROJECT, state, inputs()).changes is False
    assert provider.read(PROJECT, state).id == PROJECT
    provider.delete(PROJECT, state)
    assert api.requests == []


def test_read_returns_stored_outputs_and_matching_inputs(tmp_path: Path) -> None:
    """read never calls the API and gives inputs that make the next diff empty."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path)
    outs = released(provider, triggers=["t"], deadline_seconds=30.0)
    stored = {**outs, "__provider": "blob"}
    result = provider.read(PROJECT, stored)
    assert result.id == PROJECT
    assert result.outs == outs
    assert result.inputs == {
        "project_id": PROJECT,
        "upload_id": "u1",
        "triggers": ["t"],
        "deadline_seconds": 30.0,
    }
    assert (
        provider.diff(PROJECT, result.outs or {}, {**result.inputs, "__provider": "x"}).changes
        is False
    )
    assert len(api.requests) == 1


def test_read_without_state_refuses_import(tmp_path: Path) -> None:
    """Reading with no stored outputs (pulumi import) fails with an explanation."""
    with pytest.raises(InputError):
        make_provider(FakeStreampixel(), tmp_path).read(PROJECT, {})


def test_delete_sends_nothing_and_says_the_build_stays_live(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """delete makes no API call and prints that the build stays live."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path)
    provider.delete(PROJECT, {"project_id": PROJECT, "upload_id": "u7"})
    assert api.requests == []
    err = capsys.readouterr().err
    assert f"streampixel: project {PROJECT}" in err
    assert "stays live" in err
    assert "u7" in err


def test_key_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Progress lines around waits and releases never contain the API key."""
    api = FakeStreampixel(
        error(429, f"Rate limit exceeded for {KEY}", **{"Retry-After": "0.01"}),
    )
    released(make_provider(api, tmp_path))
    captured = capsys.readouterr()
    assert captured.err
    assert KEY not in captured.err
    assert KEY not in captured.out


def test_concurrent_creates_of_one_user_are_paced(tmp_path: Path) -> None:
    """Three releases on one provider object from three threads are spaced by the interval."""
    api = FakeStreampixel()
    provider = make_provider(api, tmp_path, stack={"streampixel:rateLimitSeconds": "0.1"})
    projects = [f"664f0000000000000000000{n}" for n in range(3)]
    failures: list[BaseException] = []

    def create(project: str) -> None:
        try:
            provider.create(inputs(project_id=project))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert failures == []
    assert sorted(r["body"]["projectId"] for r in api.requests) == projects
    assert min(b - a for a, b in pairwise(api.times)) >= 0.1 - 0.005


# --- confirmed releases (the webhook receiver faked by a second MockTransport) -------------

STATUS_URL = "http://receiver.test"
READ_TOKEN = "read-token-provider-3e8d1f"
CONFIRMING = {
    "streampixel:confirm": "true",
    "streampixel:statusUrl": STATUS_URL,
    "streampixel:statusToken": READ_TOKEN,
    "streampixel:pollSeconds": "0.01",
    "streampixel:confirmDeadlineSeconds": "0.3",
}


class FakeReceiver:
    """The receiver's /uploads/{id}: no events until Streampixel got a call, then `events`."""

    def __init__(self, api: FakeStreampixel, *events: tuple[str, str | None]) -> None:
        self.api = api
        self.events = events
        self.requests: list[httpx.Request] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("refused")
        if not self.api.requests or not self.events:
            return httpx.Response(404, json={"message": "No events received for this upload"})
        now = datetime.now(timezone.utc).isoformat()
        records = [
            {"event": event, "objection": objection, "timestamp": now, "received_at": now}
            for event, objection in self.events
        ]
        upload = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(
            200,
            json={"upload_id": upload, "project_id": PROJECT, "state": "x", "events": records},
        )


def confirming_provider(
    api: FakeStreampixel, receiver: FakeReceiver, tmp_path: Path, **stack: str
) -> BuildReleaseProvider:
    provider = BuildReleaseProvider(
        transport=httpx.MockTransport(api),
        status_transport=httpx.MockTransport(receiver),
        environ={"STREAMPIXEL_CACHE_DIR": str(tmp_path / "cache")},
    )
    config = {
        "streampixel:apiKey": KEY,
        "streampixel:userId": USER,
        "streampixel:apiUrl": API,
        "streampixel:rateLimitSeconds": "0.01",
        "streampixel:progressSeconds": "5",
        **CONFIRMING,
    }
    config.update(stack)
    provider.configure(ConfigureRequest(Config(config, project_name="app")))
    return provider


def test_confirmed_create_is_live_and_records_when_events_count(tmp_path: Path) -> None:
    """With confirmation on, a distributing event after the trigger makes status live."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api, ("build.distributing", None))
    provider = confirming_provider(api, receiver, tmp_path)
    outs = released(provider, confirm=True, confirm_deadline_seconds=5.0)
    assert outs["status"] == "live"
    assert datetime.fromisoformat(outs["confirm_since"]) <= datetime.fromisoformat(
        outs["triggered_at"]
    ) + timedelta(seconds=1)
    assert (outs["confirm"], outs["confirm_deadline_seconds"]) == (True, 5.0)
    assert len(api.requests) == 1
    assert len(receiver.requests) >= 2  # once before the trigger, then until confirmed
    assert "since" not in receiver.requests[0].url.params
    assert "since" in receiver.requests[-1].url.params


def test_confirmation_without_receiver_settings_fails_before_any_request(
    tmp_path: Path,
) -> None:
    """confirm on without statusUrl/statusToken fails naming both keys, before any request."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api)
    provider = confirming_provider(
        api, receiver, tmp_path, **{"streampixel:statusUrl": "", "streampixel:statusToken": ""}
    )
    with pytest.raises(ConfigError) as caught:
        provider.create(inputs())
    assert caught.value.key == "streampixel:statusUrl and streampixel:statusToken"
    assert api.requests == []
    assert receiver.requests == []


def test_resource_confirm_false_beats_stack_config(tmp_path: Path) -> None:
    """confirm=False on the resource releases without asking the receiver."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api, ("build.distributing", None))
    outs = released(confirming_provider(api, receiver, tmp_path), confirm=False)
    assert outs["status"] == "triggered"
    assert "confirm_since" not in outs
    assert receiver.requests == []


def test_rejection_after_trigger_fails_the_update_after_one_distribution(
    tmp_path: Path,
) -> None:
    """A build.rejected after the accepted trigger fails the update with the objection."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api)
    provider = confirming_provider(api, receiver, tmp_path, **{"streampixel:confirm": "false"})
    olds = released(provider)
    receiver.events = (("build.rejected", "Executable not found in zip"),)
    with pytest.raises(DistributionRejected) as caught:
        provider.update(PROJECT, olds, inputs(upload_id="u2", confirm=True))
    assert caught.value.objection == "Executable not found in zip"
    assert "rejected upload u2" in str(caught.value)
    assert "had accepted the distribution" in str(caught.value)
    assert [r["body"]["uploadId"] for r in api.requests] == ["u1", "u2"]


def test_unreachable_receiver_records_an_unconfirmed_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The distribution happened, so a receiver that never answers leaves status unconfirmed."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api)
    receiver.down = True
    outs = released(confirming_provider(api, receiver, tmp_path))
    assert outs["status"] == "unconfirmed"
    assert len(api.requests) == 1
    err = capsys.readouterr().err
    assert "Could not connect to the webhook receiver" in err
    assert READ_TOKEN not in err


def test_read_updates_status_from_the_receiver_without_a_phantom_diff(tmp_path: Path) -> None:
    """refresh with confirmation on reads a later rejection; inputs stay those of the release."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api, ("build.distributing", None))
    provider = confirming_provider(api, receiver, tmp_path)
    outs = released(provider)
    receiver.events = (("build.distributing", None), ("build.rejected", "Crashes on start"))
    result = provider.read(PROJECT, {**outs, "__provider": "blob"})
    assert result.outs is not None
    assert (result.outs["status"], result.outs["objection"]) == ("rejected", "Crashes on start")
    assert result.inputs == {"project_id": PROJECT, "upload_id": "u1"}
    assert provider.diff(PROJECT, result.outs, inputs()).changes is False
    assert len(api.requests) == 1


def test_read_without_confirmation_asks_no_receiver(tmp_path: Path) -> None:
    """With confirmation off, refresh stays offline and returns the stored outputs."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api, ("build.rejected", "x"))
    provider = confirming_provider(api, receiver, tmp_path, **{"streampixel:confirm": "false"})
    outs = released(provider)
    assert provider.read(PROJECT, outs).outs == outs
    assert receiver.requests == []


@pytest.mark.parametrize(
    "stack",
    [{}, {"streampixel:confirm": "maybe"}, {"streampixel:pollSeconds": "often"}],
    ids=["receiver-down", "broken-confirm-setting", "broken-other-setting"],
)
def test_read_keeps_the_stored_status_when_it_cannot_ask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack: dict[str, str]
) -> None:
    """A refresh never fails for the receiver or a broken setting: status stands, with a warning."""
    api = FakeStreampixel()
    receiver = FakeReceiver(api, ("build.distributing", None))
    outs = released(confirming_provider(api, receiver, tmp_path))
    receiver.down = True
    capsys.readouterr()
    provider = confirming_provider(api, receiver, tmp_path, **stack)
    assert provider.read(PROJECT, outs).outs == outs
    assert "warning: refresh kept status 'live'" in capsys.readouterr().err
