"""End-to-end: confirmed releases, emulator -> webhook receiver -> provider.

The emulator posts its webhooks to a real receiver (streampixel-webhooks on 127.0.0.1), and the
provider process, driven through the engine-protocol harness, reads the receiver's API after
each accepted trigger. Waits are shortened through the settings only: the `confirmed` program's
stack polls every 0.1 s for at most 3 s.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from streampixel_pulumi.emulator.demo import DEMO_PROJECT_ID, DEMO_UPLOAD_IDS
from streampixel_pulumi.emulator.server import EmulatorServer
from streampixel_pulumi.webhooks.server import ReceiverServer
from tests.e2e.conftest import MakeStack, distributions
from tests.e2e.harness import OperationFailed, OperationResult, ProviderError, Stack
from tests.fixtures_receiver import reader

U1, U2 = DEMO_UPLOAD_IDS
OBJECTION = "Build is missing the Pixel Streaming plugin"


def point_at(stack: Stack, url: str, token: str) -> None:
    """Give the stack the receiver's URL and read token, as a team would in stack config."""
    stack.config.set("streampixel:statusUrl", url)
    stack.config.set("streampixel:statusToken", token, secret=True)


@pytest.fixture
def confirmed(
    make_stack: MakeStack, emulator: EmulatorServer, webhook_receiver: ReceiverServer
) -> Stack:
    """The `confirmed` program's stack; the demo project's webhooks go to the receiver."""
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_url=webhook_receiver.hook_url)
    stack = make_stack("confirmed")
    point_at(stack, webhook_receiver.url, webhook_receiver.read_token.get_secret_value())
    return stack


def provider_error(caught: pytest.ExceptionInfo[OperationFailed]) -> ProviderError:
    (error,) = caught.value.errors
    assert isinstance(error, ProviderError)
    return error


def said(result: OperationResult, fragment: str) -> bool:
    """Whether a provider line about the demo project contains `fragment`."""
    prefix = f"streampixel: project {DEMO_PROJECT_ID} "
    return any(line.startswith(prefix) and fragment in line for line in result.lines)


def test_confirmed_release_is_live_and_refresh_keeps_it(
    confirmed: Stack, emulator: EmulatorServer, webhook_receiver: ReceiverServer
) -> None:
    """The receiver's events turn the accepted trigger into status live; refresh agrees."""
    result = confirmed.up()
    outputs = confirmed.outputs("release")
    assert outputs["status"] == "live"
    assert outputs["confirm_since"] <= outputs["triggered_at"]
    assert [(c["status"], c["upload_id"]) for c in distributions(emulator)] == [(200, U1)]
    assert said(result, "waiting up to 3.0 s")
    assert said(result, f"confirmed: the webhook receiver reports upload {U1}")

    emulator.control.clear_requests()
    refreshed = confirmed.refresh()
    assert [(step.op, step.changes) for step in refreshed.steps] == [("read", "none")]
    assert confirmed.outputs("release")["status"] == "live"
    assert confirmed.up().ops == {"release": "same"}
    assert emulator.control.requests() == []

    state = json.dumps([s.outputs for s in confirmed.state.values()])
    for token in (webhook_receiver.read_token, webhook_receiver.hook_token):
        assert token.get_secret_value() not in "\n".join(confirmed.lines)
        assert token.get_secret_value() not in state


def test_rejected_build_fails_the_update_with_the_objection(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """A build.rejected after the trigger fails the update clearly; the state keeps the last good release."""
    confirmed.up(skip_preview=True)
    before = confirmed.snapshot()
    emulator.control.update_upload(U2, reject_on_distribute=OBJECTION)
    # Without build.distributing the provider waits for the end of the distribution.
    emulator.control.update_project(
        DEMO_PROJECT_ID, webhook_events=["build.approved", "build.rejected"]
    )
    emulator.control.clear_requests()
    confirmed.config.set("uploadId", U2)
    with pytest.raises(OperationFailed) as caught:
        confirmed.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("DistributionRejected")
    assert OBJECTION in error.message
    assert f"rejected upload {U2}" in error.message
    assert "had accepted the distribution" in error.message
    assert "git revert" in error.message
    assert confirmed.snapshot() == before
    assert [(c["status"], c["upload_id"]) for c in distributions(emulator)] == [(200, U2)]
    assert emulator.control.project(DEMO_PROJECT_ID)["live_upload_id"] == U1

    # Reverting to the good upload, as the message says, matches the state: nothing is sent.
    confirmed.config.set("uploadId", U1)
    assert confirmed.up().ops == {"release": "same"}
    assert len(distributions(emulator)) == 1


def test_rejection_after_confirmation_shows_in_refresh(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """A build confirmed while distributing and rejected later reads back as rejected."""
    emulator.control.update_settings(distribute_seconds=2.0)
    emulator.control.update_upload(U1, reject_on_distribute=OBJECTION)
    confirmed.up(skip_preview=True)
    assert confirmed.outputs("release")["status"] == "live"
    emulator.control.wait_for(
        lambda: any(
            d["event"] == "build.rejected" and d["status_code"] == 200
            for d in emulator.control.webhook_deliveries()
        ),
        timeout=10,
        what="the build.rejected delivery",
    )
    emulator.control.clear_requests()
    result = confirmed.refresh()
    assert [(step.op, step.changes) for step in result.steps] == [("read", "none")]
    outputs = confirmed.outputs("release")
    assert (outputs["status"], outputs["objection"]) == ("rejected", OBJECTION)
    assert said(result, f"refresh: the webhook receiver reports upload {U1} rejected")
    assert confirmed.up().ops == {"release": "same"}
    assert emulator.control.requests() == []


def test_no_confirmation_within_deadline_records_unconfirmed_once(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """Without webhooks the release is recorded unconfirmed with a warning; no second distribution."""
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_url=None)
    started = time.monotonic()
    result = confirmed.up(skip_preview=True)
    assert time.monotonic() - started < 15
    outputs = confirmed.outputs("release")
    assert (outputs["status"], outputs["upload_id"]) == ("unconfirmed", U1)
    assert said(result, "warning: no confirmation within 3.0 s")
    assert said(result, "does not distribute it again")
    assert said(result, "waiting for confirmation of upload")
    assert confirmed.up().ops == {"release": "same"}
    assert [c["upload_id"] for c in distributions(emulator)] == [U1]


def test_rollback_is_not_confirmed_by_the_earlier_release_of_the_same_upload(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """Events of U1's first release, seconds old, do not confirm its rollback."""
    confirmed.up(skip_preview=True)
    confirmed.config.set("uploadId", U2)
    confirmed.up(skip_preview=True)
    assert confirmed.outputs("release")["status"] == "live"
    emulator.control.update_project(DEMO_PROJECT_ID, webhook_url=None)
    confirmed.config.set("uploadId", U1)
    confirmed.up(skip_preview=True)
    outputs = confirmed.outputs("release")
    assert (outputs["action"], outputs["status"]) == ("rollback", "unconfirmed")
    assert confirmed.refresh().steps[0].changes == "none"
    assert confirmed.outputs("release")["status"] == "unconfirmed"


def test_receiver_restarted_mid_run_loses_no_event(
    make_stack: MakeStack, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """An event stored before the receiver restarts confirms the release after it."""
    database = tmp_path / "restart.db"
    first = ReceiverServer(database)
    first.start()
    port = urlsplit(first.url).port
    assert port is not None
    emulator.control.update_settings(distribute_seconds=1.0)
    emulator.control.update_project(
        DEMO_PROJECT_ID,
        webhook_url=first.hook_url,
        webhook_events=["build.approved", "build.rejected"],
    )
    stack = make_stack("confirmed")
    point_at(stack, first.url, first.read_token.get_secret_value())
    stack.config.set("streampixel:pollSeconds", "3")
    stack.config.set("streampixel:confirmDeadlineSeconds", "20")
    outcome: dict[str, Any] = {}

    def run_up() -> None:
        try:
            outcome["result"] = stack.up(skip_preview=True)
        except BaseException as exc:
            outcome["error"] = exc

    runner = threading.Thread(target=run_up)
    runner.start()
    second: ReceiverServer | None = None
    try:
        emulator.control.wait_for(
            lambda: any(
                d["event"] == "build.approved" and d["status_code"] == 200
                for d in emulator.control.webhook_deliveries()
            ),
            timeout=20,
            what="the build.approved delivery",
        )
        first.stop()
        second = ReceiverServer(
            database, hook_token=first.hook_token, read_token=first.read_token, port=port
        )
        second.start()
        runner.join(40)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert not runner.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert stack.outputs("release")["status"] == "live"
    assert said(outcome["result"], "(build.approved at")
    with ReceiverServer(database, read_token=first.read_token) as third, reader(third) as http:
        events = http.get(f"/uploads/{U1}").json()["events"]
    assert [event["event"] for event in events] == ["build.approved"]


def test_receiver_down_is_reported_and_the_release_recorded_unconfirmed(
    confirmed: Stack, emulator: EmulatorServer, tmp_path: Path
) -> None:
    """With nothing listening at statusUrl the provider says so, does not hang, and records the release."""
    with ReceiverServer(tmp_path / "gone.db") as gone:
        url, token = gone.url, gone.read_token.get_secret_value()
    point_at(confirmed, url, token)
    started = time.monotonic()
    result = confirmed.up(skip_preview=True)
    assert time.monotonic() - started < 15
    assert confirmed.outputs("release")["status"] == "unconfirmed"
    assert said(result, "warning: the webhook receiver cannot be asked before the release")
    assert said(result, "Could not connect to the webhook receiver")
    assert [c["status"] for c in distributions(emulator)] == [200]

    refreshed = confirmed.refresh()
    assert [(step.op, step.changes) for step in refreshed.steps] == [("read", "none")]
    assert said(refreshed, "warning: refresh kept status 'unconfirmed'")
    assert confirmed.up().ops == {"release": "same"}
    assert len(distributions(emulator)) == 1


def test_receiver_that_never_answers_does_not_hang_the_release(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """A receiver that accepts connections but never answers costs bounded timeouts only."""
    with socket.socket() as black_hole:
        # Listening without ever accepting: the kernel completes connections, nobody answers.
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        point_at(confirmed, f"http://127.0.0.1:{black_hole.getsockname()[1]}", "never-read-0000000")
        confirmed.config.set("streampixel:httpTimeoutSeconds", "1")
        confirmed.config.set("streampixel:confirmDeadlineSeconds", "2")
        started = time.monotonic()
        result = confirmed.up(skip_preview=True)
        elapsed = time.monotonic() - started
    assert elapsed < 15
    assert confirmed.outputs("release")["status"] == "unconfirmed"
    assert said(result, "The webhook receiver did not answer (ReadTimeout)")
    assert [c["status"] for c in distributions(emulator)] == [200]


def test_confirmation_without_receiver_settings_fails_before_any_request(
    make_stack: MakeStack, emulator: EmulatorServer
) -> None:
    """streampixel:confirm without statusUrl and statusToken names both keys; nothing is sent."""
    stack = make_stack("confirmed")
    with pytest.raises(OperationFailed) as caught:
        stack.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("ConfigError")
    assert "streampixel:statusUrl and streampixel:statusToken" in error.message
    assert stack.state == {}
    assert emulator.control.requests() == []


def test_wrong_read_token_fails_before_the_distribution(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """A token the receiver refuses fails the release before distribute-file is called."""
    wrong = "wrong-read-token-for-e2e-000000"
    confirmed.config.set("streampixel:statusToken", wrong, secret=True)
    with pytest.raises(OperationFailed) as caught:
        confirmed.up(skip_preview=True)
    error = provider_error(caught)
    assert error.error_type.endswith("AuthError")
    assert "streampixel:statusToken" in error.message
    assert wrong not in error.details
    assert wrong not in "\n".join(confirmed.lines)
    assert confirmed.state == {}
    assert distributions(emulator) == []


def test_resource_input_turns_confirmation_on_and_off(
    confirmed: Stack, emulator: EmulatorServer
) -> None:
    """`confirm` on the resource beats streampixel:confirm, both ways."""
    confirmed.config.set("streampixel:confirm", "false")
    confirmed.config.set("confirm", True)
    confirmed.config.set("confirmDeadlineSeconds", 5)
    confirmed.up(skip_preview=True)
    outputs = confirmed.outputs("release")
    assert (outputs["status"], outputs["confirm"], outputs["confirm_deadline_seconds"]) == (
        "live",
        True,
        5,
    )

    confirmed.config.set("streampixel:confirm", "true")
    confirmed.config.set("confirm", False)
    confirmed.config.set("uploadId", U2)
    confirmed.up(skip_preview=True)
    outputs = confirmed.outputs("release")
    assert (outputs["status"], outputs["confirm"]) == ("triggered", False)
    assert "confirm_since" not in outputs
    assert len(distributions(emulator)) == 2
