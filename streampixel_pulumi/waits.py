"""Deadlines, waiting with progress lines, and the retry decision.

This is the only module that sleeps or blocks on a lock. Every wait is bounded by a Deadline
(Pulumi ignores ``customTimeouts`` and ``Cancel`` for dynamic providers, so nothing else would
stop it) and tells the user what it waits for: the provider process's stderr is shown by the
Pulumi CLI without a resource name, so each line starts with ``streampixel: project <id>``.

`retry_delay` is the one place that decides whether a failed call may be repeated: only
errors marked retry-safe (the request certainly did not take effect) and transport errors
where the request never left are retried, so a retry can never distribute twice.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from streampixel_pulumi.errors import RateLimited, TransportError, WaitTimeout

__all__ = [
    "MIN_RETRY_SECONDS",
    "TRANSPORT_RETRY_SECONDS",
    "Deadline",
    "Progress",
    "Waiter",
    "format_seconds",
    "retry_delay",
]

TRANSPORT_RETRY_SECONDS = 5.0
"""Longest pause before retrying a request that never reached Streampixel."""

MIN_RETRY_SECONDS = 0.5
"""Shortest pause before any retry, so pacing turned off (rateLimitSeconds 0) never spins."""

_DEADLINE_KEYS = "deadline_seconds / streampixel:deadlineSeconds"

Clock = Callable[[], float]


def format_seconds(seconds: float) -> str:
    """Render a duration for a progress line: ``118 s``, ``2.5 s``."""
    seconds = max(0.0, seconds)
    if seconds >= 10:
        return f"{seconds:.0f} s"
    return f"{seconds:.1f} s"


class Deadline:
    """A point in time after which waiting must stop."""

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining() <= 0


class Progress:
    """Prints ``streampixel: project <id> <text>`` lines to stderr, flushed at once.

    `every` is the longest silence during a wait (streampixel:progressSeconds).
    """

    def __init__(self, project_id: str, *, every: float, stream: TextIO | None = None) -> None:
        self.project_id = project_id
        self.every = every
        self._stream = stream

    def say(self, text: str) -> None:
        """Print one line about this project."""
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(f"streampixel: project {self.project_id} {text}\n")
        stream.flush()


class Waiter:
    """Sleeps and blocks on locks for one operation, within its deadline, saying why."""

    def __init__(
        self,
        deadline: Deadline,
        progress: Progress,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.deadline = deadline
        self.progress = progress
        self._clock = clock
        self._sleep = sleep

    def _timeout(self, why: str, needed: float | None) -> WaitTimeout:
        left = self.deadline.remaining()
        detail = f"; the next try would be in {format_seconds(needed)}" if needed else ""
        return WaitTimeout(
            f"project {self.progress.project_id}: {why}{detail}, but the deadline of "
            f"{format_seconds(self.deadline.seconds)} ({_DEADLINE_KEYS}) "
            f"{'has passed' if left <= 0 else f'ends in {format_seconds(left)}'}. "
            "Nothing was distributed by this attempt; run `pulumi up` again later "
            "or raise the deadline."
        )

    def sleep(self, seconds: float, why: str, *, then: str = "retrying") -> None:
        """Sleep `seconds`, printing ``<why>, <then> in N s`` now and every progress interval.

        Fails at once with WaitTimeout when the wait would outlast the deadline: waiting
        until the deadline only to give up then would help nobody.
        """
        if seconds <= 0:
            return
        if seconds > self.deadline.remaining():
            raise self._timeout(why, seconds)
        self.progress.say(f"{why}, {then} in {format_seconds(seconds)}")
        end = self._clock() + seconds
        while True:
            left = end - self._clock()
            if left <= 0:
                return
            self._sleep(min(left, self.progress.every))
            left = end - self._clock()
            if left > 0:
                self.progress.say(f"still {why}, {then} in {format_seconds(left)}")

    def acquire(self, try_acquire: Callable[[float], bool], why: str) -> None:
        """Block until ``try_acquire(timeout)`` returns True, saying `why` while it takes.

        `try_acquire` gets the longest time it may block and returns whether it got the lock.
        """
        if try_acquire(0):
            return
        self.progress.say(why)
        while True:
            left = self.deadline.remaining()
            if left <= 0:
                raise self._timeout(why, None)
            if try_acquire(min(left, self.progress.every)):
                return
            self.progress.say(f"still {why}")


def retry_delay(error: BaseException, *, interval: float) -> float | None:
    """Decide whether a failed call may be repeated, and after how many seconds.

    Returns None when it must not be retried. Only errors that certainly did not take
    effect qualify: RateLimited (after the server's retry_after), BuildNotReady (after the
    pacing `interval`, which respects the rate limit) and a TransportError whose request
    was never sent. A TransportError(sent=True), ServerError or UnexpectedResponse may have
    triggered a distribution, so repeating it could distribute twice.
    """
    if isinstance(error, TransportError):
        if error.sent:
            return None
        return max(min(interval, TRANSPORT_RETRY_SECONDS), MIN_RETRY_SECONDS)
    if not getattr(error, "retry_safe", False):
        return None
    if isinstance(error, RateLimited):
        return max(error.retry_after, MIN_RETRY_SECONDS)
    return max(interval, MIN_RETRY_SECONDS)
