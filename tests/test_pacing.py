"""Tests of per-user pacing across threads (thread lock) and processes (file lock)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest

from streampixel_pulumi.errors import WaitTimeout
from streampixel_pulumi.pacing import Pacer, user_key
from streampixel_pulumi.waits import Deadline, Progress, Waiter

USER = "5f00000000000000000000a1"


class WallClock:
    """A fake wall clock shared by the pacer and the waiter; sleeping advances it."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fake_waiter(clock: WallClock, deadline: float = 900.0) -> tuple[Waiter, io.StringIO]:
    stream = io.StringIO()
    waiter = Waiter(
        Deadline(deadline, clock=clock),
        Progress("p1", every=15.0, stream=stream),
        clock=clock,
        sleep=clock.sleep,
    )
    return waiter, stream


def real_waiter(deadline: float = 10.0) -> Waiter:
    return Waiter(Deadline(deadline), Progress("p1", every=5.0, stream=io.StringIO()))


def test_files_are_named_by_hash_never_by_user_id(tmp_path: Path) -> None:
    """Lock and stamp files carry a hash of the user id, not the id."""
    clock = WallClock()
    pacer = Pacer(tmp_path, USER, 120.0, clock=clock)
    waiter, _ = fake_waiter(clock)
    with pacer.turn(waiter) as turn:
        turn.spend(120.0)
    names = [path.name for path in tmp_path.iterdir()]
    assert names
    assert all(USER not in name for name in names)
    assert all(user_key(USER) in name for name in names)
    assert USER not in pacer.stamp_path.read_text()


def test_first_turn_does_not_wait(tmp_path: Path) -> None:
    """With no earlier call recorded the turn is granted at once."""
    clock = WallClock()
    waiter, stream = fake_waiter(clock)
    with Pacer(tmp_path, USER, 120.0, clock=clock).turn(waiter):
        pass
    assert clock.sleeps == []
    assert stream.getvalue() == ""


def test_next_turn_waits_for_the_interval_and_says_so(tmp_path: Path) -> None:
    """After a spent slot the next turn waits the rest of the interval with a progress line."""
    clock = WallClock()
    pacer = Pacer(tmp_path, USER, 120.0, clock=clock)
    waiter, stream = fake_waiter(clock)
    with pacer.turn(waiter) as turn:
        turn.spend(120.0)
    clock.now += 20
    with pacer.turn(waiter):
        pass
    assert sum(clock.sleeps) == pytest.approx(100.0)
    assert "pacing: Streampixel allows one call per 120 s per user, calling in 100 s" in (
        stream.getvalue()
    )


def test_spend_never_shortens_a_longer_hold(tmp_path: Path) -> None:
    """A 429's longer hold survives a later, shorter spend."""
    clock = WallClock()
    pacer = Pacer(tmp_path, USER, 1.0, clock=clock)
    waiter, _ = fake_waiter(clock)
    with pacer.turn(waiter) as turn:
        turn.spend(300.0)
        turn.spend(1.0)
    not_before, _ = pacer.read_stamp()
    assert not_before == pytest.approx(clock.now + 300.0)


def test_clock_set_back_holds_no_longer_than_recorded(tmp_path: Path) -> None:
    """A stamp far in the future (clock set back) holds at most the recorded hold."""
    clock = WallClock()
    pacer = Pacer(tmp_path, USER, 10.0, clock=clock)
    pacer.write_stamp(clock.now + 86_400.0, 10.0)
    waiter, _ = fake_waiter(clock)
    with pacer.turn(waiter):
        pass
    assert sum(clock.sleeps) == pytest.approx(10.0)


def test_unreadable_stamp_counts_as_none(tmp_path: Path) -> None:
    """A corrupt stamp file does not block calls."""
    clock = WallClock()
    pacer = Pacer(tmp_path, USER, 10.0, clock=clock)
    pacer.stamp_path.write_text("{not json")
    assert pacer.read_stamp() == (0.0, 0.0)


def test_wait_beyond_deadline_fails_without_sleeping(tmp_path: Path) -> None:
    """A slot further away than the deadline fails with WaitTimeout at once."""
    clock = WallClock()
    pacer = Pacer(tmp_path, USER, 120.0, clock=clock)
    pacer.write_stamp(clock.now + 120.0, 120.0)
    waiter, _ = fake_waiter(clock, deadline=30.0)
    with pytest.raises(WaitTimeout), pacer.turn(waiter):
        pass
    assert clock.sleeps == []


def test_turn_is_released_when_the_call_fails(tmp_path: Path) -> None:
    """An exception inside the turn releases both locks."""
    pacer = Pacer(tmp_path, USER, 0.0)
    with pytest.raises(RuntimeError), pacer.turn(real_waiter()):
        raise RuntimeError
    with pacer.turn(real_waiter(deadline=1.0)):
        pass


def test_scopes_are_paced_apart(tmp_path: Path) -> None:
    """upload-file and distribute-file have separate limits, so separate pacing."""
    clock = WallClock()
    distribute = Pacer(tmp_path, USER, 120.0, clock=clock)
    upload = Pacer(tmp_path, USER, 120.0, scope="upload", clock=clock)
    waiter, _ = fake_waiter(clock)
    with distribute.turn(waiter) as turn:
        turn.spend(120.0)
    with upload.turn(waiter):
        pass
    assert clock.sleeps == []


def test_other_users_are_not_held_back(tmp_path: Path) -> None:
    """Pacing is per user: another user's turn is granted while one is held."""
    clock = WallClock()
    first = Pacer(tmp_path, USER, 120.0, clock=clock)
    other = Pacer(tmp_path, "5f00000000000000000000b2", 120.0, clock=clock)
    waiter, _ = fake_waiter(clock)
    with first.turn(waiter) as turn:
        turn.spend(120.0)
        with other.turn(waiter):
            pass
    assert clock.sleeps == []


def test_threads_of_one_process_are_spaced_by_the_interval(tmp_path: Path) -> None:
    """Four threads taking turns for one user never call closer than the interval."""
    interval = 0.1
    calls: list[float] = []
    guard = threading.Lock()

    def worker() -> None:
        pacer = Pacer(tmp_path, USER, interval)
        with pacer.turn(real_waiter()) as turn:
            with guard:
                calls.append(time.time())
            turn.spend(interval)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    calls.sort()
    assert len(calls) == 4
    gaps = [later - earlier for earlier, later in pairwise(calls)]
    assert min(gaps) >= interval - 0.005


_PROCESS_SCRIPT = textwrap.dedent(
    """
    import io, json, sys, time
    from pathlib import Path
    from streampixel_pulumi.pacing import Pacer
    from streampixel_pulumi.waits import Deadline, Progress, Waiter

    cache, user, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    stamps = []
    for _ in range(3):
        waiter = Waiter(Deadline(20), Progress("p", every=5, stream=io.StringIO()))
        with Pacer(cache, user, 0.15).turn(waiter) as turn:
            stamps.append(time.time())
            turn.spend(0.15)
    out.write_text(json.dumps(stamps))
    """
)


def test_two_processes_share_pacing_through_the_file_lock(tmp_path: Path) -> None:
    """Two provider processes of one user (two stacks at once) never call too close."""
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_SCRIPT, str(tmp_path / "cache"), USER, str(out)]
        )
        for out in outs
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    calls = sorted(stamp for out in outs for stamp in json.loads(out.read_text()))
    assert len(calls) == 6
    gaps = [later - earlier for earlier, later in pairwise(calls)]
    assert min(gaps) >= 0.15 - 0.005
