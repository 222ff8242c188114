"""Per-user pacing of Streampixel calls, shared by threads and by processes.

Streampixel allows one distribute-file call per user every 2 minutes (shared/streampixel-api.md).
One provider process runs 4 gRPC worker threads on one provider object, and two stacks of the
same user may deploy at once, so the spacing is kept in three layers, taken in this order:

1. a thread lock per user (module level, so all provider objects in a process share it);
2. a file lock per user under Settings.cache_dir (``filelock``), for other processes;
3. a small JSON file next to it holding ``not_before``: the wall-clock time before which the
   next call of this user must not be sent.

Files are named by a hash of the user id, never the id itself. A caller takes a `turn`
(which waits until ``not_before``), makes one request, records what it spent, and releases
the turn before any retry wait so that other projects of the user can use the next slot.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

from streampixel_pulumi.waits import Waiter, format_seconds

__all__ = ["Pacer", "Turn", "user_key"]

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def user_key(user_id: str) -> str:
    """A stable file-name-safe key for a user id that does not reveal it."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:32]


def _thread_lock(key: str) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.get(key)
        if lock is None:
            lock = _THREAD_LOCKS[key] = threading.Lock()
        return lock


class Turn:
    """The right to send one request for the user; records when the next one may go."""

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer

    def spend(self, seconds: float) -> None:
        """Keep every call of this user back for `seconds` from now (never shortens a hold)."""
        pacer = self._pacer
        seconds = max(seconds, 0.0)
        wanted = pacer.clock() + seconds
        stored, hold = pacer.read_stamp()
        if stored > wanted:
            wanted, seconds = stored, max(hold, seconds)
        pacer.write_stamp(wanted, seconds)


class Pacer:
    """Spaces calls of one user by `interval` seconds across threads and processes.

    Args:
        cache_dir: directory for the lock and timestamp files (Settings.cache_dir).
        user_id: the Streampixel user id; only its hash reaches the file system.
        interval: minimum seconds between two calls (streampixel:rateLimitSeconds).
        scope: which rate limit: Streampixel counts distribute-file and upload-file apart.
        clock: wall clock shared by processes (epoch seconds).
    """

    def __init__(
        self,
        cache_dir: Path,
        user_id: str,
        interval: float,
        *,
        scope: str = "distribute",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._key = f"{user_key(user_id)}-{scope}"
        self._dir = cache_dir
        self.lock_path = cache_dir / f"pacing-{self._key}.lock"
        self.stamp_path = cache_dir / f"pacing-{self._key}.json"

    def read_stamp(self) -> tuple[float, float]:
        """The stored (``not_before``, ``hold`` seconds); zeros when missing or unreadable."""
        try:
            data = json.loads(self.stamp_path.read_text(encoding="utf-8"))
            not_before, hold = float(data["not_before"]), float(data["hold"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0, 0.0
        if not (math.isfinite(not_before) and math.isfinite(hold)):
            return 0.0, 0.0
        return not_before, hold

    def write_stamp(self, not_before: float, hold: float) -> None:
        """Store the stamp atomically (called with the file lock held)."""
        tmp = self.stamp_path.with_name(f"{self.stamp_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"not_before": not_before, "hold": hold}), encoding="utf-8")
        os.replace(tmp, self.stamp_path)

    @contextlib.contextmanager
    def turn(self, waiter: Waiter) -> Iterator[Turn]:
        """Wait for this user's next slot and hold it while the caller sends one request.

        Raises:
            WaitTimeout: the slot would come after the waiter's deadline.
        """
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        thread_lock = _thread_lock(self._key)

        def try_thread(timeout: float) -> bool:
            if timeout > 0:
                return thread_lock.acquire(timeout=timeout)
            return thread_lock.acquire(blocking=False)

        waiter.acquire(
            try_thread, "waiting for another Streampixel call of the same user in this deployment"
        )
        try:
            file_lock = filelock.FileLock(self.lock_path)

            def try_file(timeout: float) -> bool:
                try:
                    file_lock.acquire(timeout=timeout, poll_interval=0.02)
                except filelock.Timeout:
                    return False
                return True

            waiter.acquire(
                try_file,
                "waiting for another deployment of the same Streampixel user (another process)",
            )
            try:
                not_before, hold = self.read_stamp()
                # A wall clock set back must not hold calls longer than the hold recorded.
                wait = min(not_before - self.clock(), max(hold, self.interval))
                if wait > 0:
                    waiter.sleep(
                        wait,
                        "pacing: Streampixel allows one call per "
                        f"{format_seconds(self.interval)} per user",
                        then="calling",
                    )
                yield Turn(self)
            finally:
                file_lock.release()
        finally:
            thread_lock.release()
