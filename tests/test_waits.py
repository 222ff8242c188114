"""Tests of deadlines, waits with progress lines and the retry predicate."""

from __future__ import annotations

import io

import pytest

from streampixel_pulumi.errors import (
    AccessDenied,
    AuthError,
    BadRequest,
    BuildNotReady,
    ProjectNotFound,
    RateLimited,
    ServerError,
    TransportError,
    UnexpectedResponse,
    WaitTimeout,
)
from streampixel_pulumi.waits import (
    MIN_RETRY_SECONDS,
    TRANSPORT_RETRY_SECONDS,
    Deadline,
    Progress,
    Waiter,
    format_seconds,
    retry_delay,
)

PROJECT = "664f1a2b3c4d5e6f7a8b9c0d"


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_waiter(deadline: float, every: float = 15.0) -> tuple[Waiter, FakeClock, io.StringIO]:
    clock = FakeClock()
    stream = io.StringIO()
    waiter = Waiter(
        Deadline(deadline, clock=clock),
        Progress(PROJECT, every=every, stream=stream),
        clock=clock,
        sleep=clock.sleep,
    )
    return waiter, clock, stream


def test_deadline_counts_down_and_expires() -> None:
    """remaining() falls with the clock and never goes negative."""
    clock = FakeClock()
    deadline = Deadline(10, clock=clock)
    clock.now += 4
    assert deadline.remaining() == 6
    clock.now += 20
    assert deadline.remaining() == 0
    assert deadline.expired()


def test_sleep_prints_first_line_naming_project_and_wait() -> None:
    """A wait starts with `streampixel: project <id> <why>, retrying in N s`."""
    waiter, clock, stream = make_waiter(900)
    waiter.sleep(118, "rate limited")
    first = stream.getvalue().splitlines()[0]
    assert first == f"streampixel: project {PROJECT} rate limited, retrying in 118 s"
    assert sum(clock.sleeps) == pytest.approx(118)


def test_sleep_prints_progress_at_most_every_progress_interval() -> None:
    """During a long wait a line appears every progress interval, each sleep no longer."""
    waiter, clock, stream = make_waiter(900, every=15)
    waiter.sleep(50, "rate limited")
    lines = stream.getvalue().splitlines()
    assert max(clock.sleeps) <= 15
    assert len(lines) == 4  # at 0, 15, 30, 45 s
    assert lines[1].endswith("still rate limited, retrying in 35 s")


def test_sleep_beyond_deadline_fails_at_once_without_sleeping() -> None:
    """A wait that would outlast the deadline raises WaitTimeout immediately."""
    waiter, clock, _ = make_waiter(60)
    with pytest.raises(WaitTimeout) as caught:
        waiter.sleep(118, "rate limited")
    assert clock.sleeps == []
    text = str(caught.value)
    assert PROJECT in text
    assert "streampixel:deadlineSeconds" in text
    assert "deadline_seconds" in text


def test_zero_sleep_prints_nothing() -> None:
    """Nothing to wait for means no line and no sleep."""
    waiter, clock, stream = make_waiter(60)
    waiter.sleep(0, "pacing")
    assert stream.getvalue() == ""
    assert clock.sleeps == []


def test_acquire_free_lock_is_silent() -> None:
    """A lock that is free at once produces no progress line."""
    waiter, _, stream = make_waiter(60)
    waiter.acquire(lambda timeout: True, "waiting for a lock")
    assert stream.getvalue() == ""


def test_acquire_busy_lock_reports_and_times_out_at_deadline() -> None:
    """A lock never freed is given up at the deadline with lines in between."""
    waiter, clock, stream = make_waiter(40, every=15)
    timeouts: list[float] = []

    def never(timeout: float) -> bool:
        timeouts.append(timeout)
        clock.now += timeout
        return False

    with pytest.raises(WaitTimeout):
        waiter.acquire(never, "waiting for another deployment")
    assert max(timeouts) <= 15
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"streampixel: project {PROJECT} waiting for another deployment"
    assert all(line.startswith(f"streampixel: project {PROJECT} ") for line in lines)


def test_acquire_returns_when_lock_frees() -> None:
    """The second try succeeding ends the wait."""
    waiter, _, _ = make_waiter(60)
    answers = iter([False, False, True])
    waiter.acquire(lambda timeout: next(answers), "waiting")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(118.2, "118 s"), (2.5, "2.5 s"), (0.04, "0.0 s"), (-3, "0.0 s")],
    ids=["long", "short", "tiny", "negative"],
)
def test_format_seconds(seconds: float, text: str) -> None:
    """Durations print as whole seconds when long, one decimal when short."""
    assert format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RateLimited(429, "Rate limit exceeded", retry_after=87.0), 87.0),
        (BuildNotReady(400, "File has no URL"), 120.0),
        (TransportError("connect refused", sent=False), TRANSPORT_RETRY_SECONDS),
        (TransportError("answer lost", sent=True), None),
        (ServerError(500, "Internal server error"), None),
        (UnexpectedResponse(200, None), None),
        (AuthError(401, "Unauthorized: Invalid API Key"), None),
        (AccessDenied(403, "Access denied"), None),
        (ProjectNotFound(404, "Project not found"), None),
        (BadRequest(400, "Missing required field: uploadId"), None),
        (ValueError("boom"), None),
    ],
    ids=[
        "rate-limited-uses-retry-after",
        "not-ready-uses-interval",
        "unsent-transport-retried",
        "sent-transport-never",
        "server-error-never",
        "unexpected-never",
        "auth-never",
        "forbidden-never",
        "not-found-never",
        "bad-request-never",
        "foreign-never",
    ],
)
def test_retry_delay_retries_only_what_cannot_have_taken_effect(
    error: BaseException, expected: float | None
) -> None:
    """Only retry-safe errors and unsent requests are retried, after the right delay."""
    assert retry_delay(error, interval=120.0) == expected


def test_unsent_transport_retry_respects_short_interval() -> None:
    """With a short pacing interval an unsent request is retried after that interval."""
    assert retry_delay(TransportError("refused", sent=False), interval=1.0) == 1.0


@pytest.mark.parametrize(
    "error",
    [
        BuildNotReady(400, "File has no URL"),
        RateLimited(429, "Rate limit exceeded", retry_after=0.0),
        TransportError("refused", sent=False),
    ],
    ids=["not-ready", "rate-limited-zero", "unsent"],
)
def test_retry_never_spins_without_pause(error: BaseException) -> None:
    """Even with pacing off (interval 0) a retry waits at least MIN_RETRY_SECONDS."""
    assert retry_delay(error, interval=0.0) == MIN_RETRY_SECONDS
