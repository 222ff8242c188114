"""Receiver ingest: webhook events per second with the SQLite store against a store of nothing.

Each run starts the receiver in its own process (benchmarks.ingest_server) on 127.0.0.1 with a
free port and a fresh database, sends a few untimed warm-up deliveries, then times `events`
distinct deliveries posted by `concurrency` client threads with keep-alive connections. Every
answer must be 200 and "stored". Runs alternate between the two stores; figures are medians.
"""

from __future__ import annotations

import secrets
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import PYTHON, REPO_ROOT, child_env, progress
from benchmarks.ingest_server import TOKEN_ENV
from benchmarks.report import Figure, median, safe_ratio

__all__ = ["measure_ingest"]

_T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
_WARMUP = 20


def _envelope(number: int) -> dict[str, Any]:
    """A distinct build.approved delivery (the store deduplicates equal ones)."""
    moment = _T0 + timedelta(milliseconds=number)
    return {
        "event": "build.approved",
        "projectId": f"664f{number % 7:020x}",
        "uploadId": f"665a{number:020x}",
        "fileUrl": None,
        "status": "Approved",
        "objection": None,
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
    }


class _Server:
    """One receiver process; the port is read from its first stdout line."""

    def __init__(self, store: str, scratch: Path, token: str) -> None:
        self._errors = (scratch / f"{store}.stderr").open("w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "benchmarks.ingest_server",
                "--store",
                store,
                "--db",
                str(scratch / "events.db"),
            ],
            cwd=REPO_ROOT,
            env=child_env({TOKEN_ENV: token}),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        self.port: int | None = None
        reader = threading.Thread(target=self._read_port, daemon=True)
        reader.start()
        reader.join(30.0)
        if self.port is None:
            self.stop()
            msg = f"ingest: the {store} receiver did not start: {self._stderr_tail()}"
            raise RuntimeError(msg)

    def _read_port(self) -> None:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if line.strip().isdigit():
            self.port = int(line)

    def _stderr_tail(self) -> str:
        self._errors.seek(0)
        return " | ".join(self._errors.read().strip().splitlines()[-3:])

    def stop(self) -> None:
        """Close its stdin (it stops serving) and wait; kill it after 10 s."""
        try:
            if self._process.stdin is not None:
                self._process.stdin.close()
            self._process.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10.0)
        finally:
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._errors.close()


def _post_all(url: str, numbers: list[int], failures: list[str]) -> None:
    with httpx.Client(timeout=10.0) as http:
        for number in numbers:
            response = http.post(url, json=_envelope(number))
            if response.status_code != 200 or response.json().get("stored") is not True:
                failures.append(f"HTTP {response.status_code}")


def _run(store: str, events: int, concurrency: int) -> float:
    """Events per second of one timed burst against a fresh receiver with `store`."""
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
        server = _Server(store, Path(scratch), token)
        try:
            url = f"http://127.0.0.1:{server.port}/hooks/{token}"
            failures: list[str] = []
            _post_all(url, list(range(_WARMUP)), failures)
            shares = [
                list(range(_WARMUP + offset, _WARMUP + events, concurrency))
                for offset in range(concurrency)
            ]
            threads = [
                threading.Thread(target=_post_all, args=(url, share, failures), daemon=True)
                for share in shares
            ]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120.0)
            elapsed = time.perf_counter() - start
            if any(thread.is_alive() for thread in threads):
                msg = "ingest: a client thread did not finish within 120 s"
                raise RuntimeError(msg)
            if failures:
                msg = f"ingest: {len(failures)} deliveries failed to {store} store, e.g. {failures[0]}"
                raise RuntimeError(msg)
        finally:
            server.stop()
    return events / elapsed


def measure_ingest(events: int, runs: int, concurrency: int = 4) -> Figure:
    """Median events/s with the SQLite store (measured) and the null store (baseline)."""
    samples: dict[str, list[float]] = {"sqlite": [], "null": []}
    for index in range(runs):
        progress(f"receiver ingest: run {index + 1}/{runs} ({events} events each)")
        for store in ("null", "sqlite") if index % 2 == 0 else ("sqlite", "null"):
            samples[store].append(_run(store, events, concurrency))
    measured, base = median(samples["sqlite"]), median(samples["null"])
    return Figure(
        key="receiver_ingest",
        label="receiver ingest: webhook events/s, SQLite store vs null store",
        unit="ev/s",
        measured=measured,
        baseline=base,
        ratio=safe_ratio(measured, base),
        target="- (recorded)",
        passed=None,
        note=(
            f"{events} distinct deliveries, {concurrency} keep-alive clients, receiver in its "
            f"own process; SQLite in WAL mode, synchronous=FULL, one commit per event; "
            f"median of {runs} alternating run(s)"
        ),
        samples=samples,
    )
