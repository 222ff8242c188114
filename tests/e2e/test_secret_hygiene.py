"""End-to-end: one recognisable API key through every path, and it shows up nowhere.

The emulator and the webhook receiver run as their console scripts (separate processes, their
stdout and stderr captured, logging at debug). The user's key is a canary; the whole fault
matrix runs with it (success, every error, waits with progress lines, tracebacks returned by
the provider process), then refresh and destroy, and the client's GET endpoints, which carry
the key in the query string. The canary must then be absent from everything a user, a CI log
or an operator could see: provider output, error details, state, the emulator's and the
receiver's output, the emulator's request log and state, the receiver's answers and database,
and every file the runs wrote.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from streampixel_pulumi import errors
from streampixel_pulumi.client import StreampixelClient
from tests.e2e.fault_matrix import (
    PROJECT,
    ROWS,
    USER,
    A,
    B,
    RowResult,
    honesty_problems,
    matrix_rig,
)

CANARY = "sp_CANARY_hygiene_key_9f3b7d1e5a"
HOOK_TOKEN = "hygiene-hook-token-0123456789abcdef"
READ_TOKEN = "hygiene-read-token-fedcba9876543210"


@dataclass
class Server:
    """A console-script server: its process, root URL and every line it printed."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def stop(self, sig: int) -> str:
        """Stop it with `sig` and return all it printed."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return "".join(self.output)


def _start(args: list[str], env: dict[str, str], url_pattern: str) -> Server:
    """Start ``python -m <args>`` (stderr merged into stdout) and wait for its URL line."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", *args],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)
        process.stdout.close()

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            process.kill()
            raise RuntimeError("".join(output)) from None
        found = re.search(url_pattern, line)
        if found:
            return Server(process, found.group(1), output)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STREAMPIXEL_", "PULUMI_"))}


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Server]:
    """``streampixel-webhooks`` on a free port, logging at debug."""
    env = {
        **_base_env(),
        "STREAMPIXEL_WEBHOOK_TOKEN": HOOK_TOKEN,
        "STREAMPIXEL_READ_TOKEN": READ_TOKEN,
    }
    args = ["streampixel_pulumi.webhooks", "--port", "0", "--db", str(tmp_path / "hooks.db")]
    server = _start([*args, "--log-level", "debug"], env, r"running on (http://127\.0\.0\.1:\d+)")
    try:
        yield server
    finally:
        server.stop(signal.SIGINT)


@pytest.fixture
def emulator_cli(tmp_path: Path, receiver: Server) -> Iterator[Server]:
    """``streampixel-emulator`` seeded with the canary user, its webhooks aimed at `receiver`."""
    seed = {
        "users": [{"user_id": USER, "api_key": CANARY}],
        "projects": [
            {
                "project_id": PROJECT,
                "user_id": USER,
                "region": "europe",
                "webhook_url": f"{receiver.url}/hooks/{HOOK_TOKEN}",
            }
        ],
        "uploads": [{"upload_id": upload, "project_id": PROJECT} for upload in (A, B)],
    }
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    args = ["streampixel_pulumi.emulator", "--port", "0", "--seed", str(seed_file)]
    server = _start(
        [*args, "--log-level", "debug"], _base_env(), r"emulator on (http://127\.0\.0\.1:\d+)"
    )
    try:
        yield server
    finally:
        server.stop(signal.SIGTERM)


def _results_text(results: list[RowResult]) -> str:
    return "\n".join(json.dumps(result.as_json()) for result in results)


def _files_text(root: Path, *, skip: Path) -> str:
    """Every file under `root` but `skip`, as text (undecodable bytes replaced)."""
    return "\n".join(
        path.read_bytes().decode("utf-8", errors="replace")
        for path in sorted(root.rglob("*"))
        if path.is_file() and path != skip
    )


def test_api_key_appears_nowhere_across_every_path(
    tmp_path: Path, emulator_cli: Server, receiver: Server
) -> None:
    """Success, every fault, waits, refresh, destroy and GETs never show the key anywhere."""
    seed_file = tmp_path / "seed.json"
    assert CANARY in seed_file.read_text("utf-8")  # the only place the key is written
    workdir = tmp_path / "runs"
    hook_url = f"{receiver.url}/hooks/{HOOK_TOKEN}"
    with matrix_rig(
        workdir, emulator_url=emulator_cli.url, api_key=CANARY, webhook_url=hook_url
    ) as rig:
        results = [rig.run(row) for row in ROWS]
        redeployed = next(s for s in rig.stacks if s.outputs("release")["upload_id"] == B)
        redeployed.refresh()
        redeployed.destroy()
        emulator_view = json.dumps(
            [
                rig.control.requests(),
                rig.control.state(),
                rig.control.settings(),
                rig.control.webhook_deliveries(),
                rig.control.events(),
            ]
        )
        stacks_view = "\n".join(
            "\n".join([*stack.lines, json.dumps(stack.snapshot(), default=str)])
            for stack in rig.stacks
        )

    base_url = f"{emulator_cli.url}/pixelStripeApi"
    with StreampixelClient(CANARY, USER, base_url=base_url) as client:
        client.projects_status()
        client.user_stats(PROJECT)
    with (
        StreampixelClient(CANARY[::-1], USER, base_url=base_url) as wrong,
        pytest.raises(errors.AuthError) as refused,
    ):
        wrong.projects_status()
    with httpx.Client(base_url=receiver.url, timeout=10) as http:
        events = http.get(
            f"/projects/{PROJECT}/events", headers={"Authorization": f"Bearer {READ_TOKEN}"}
        ).text
    emulator_output = emulator_cli.stop(signal.SIGTERM)
    receiver_output = receiver.stop(signal.SIGINT)

    assert [r.name for r in results if honesty_problems(r)] == []
    seen = {
        "provider output, errors, tracebacks and outputs": _results_text(results),
        "stacks (lines and state)": stacks_view,
        "emulator console output": emulator_output,
        "emulator request log and state": emulator_view,
        "receiver console output": receiver_output,
        "receiver read API": events,
        "client error": f"{refused.value}\n{refused.value!r}",
        "files written (programs, config, pacing, receiver database)": _files_text(
            tmp_path, skip=tmp_path / "seed.json"
        ),
    }
    # The paths were really taken: each place holds what it should.
    assert "HTTP 500" in seen["provider output, errors, tracebacks and outputs"]
    assert "may have taken effect" in seen["provider output, errors, tracebacks and outputs"]
    assert "Traceback" in seen["provider output, errors, tracebacks and outputs"]
    assert "rate limited, retrying in" in seen["provider output, errors, tracebacks and outputs"]
    assert "nothing is sent to Streampixel" in seen["stacks (lines and state)"]
    assert "distribute-file -> 200" in emulator_output
    assert "projects-status -> 401" in emulator_output
    assert "stored Envelope" in receiver_output
    assert "build.approved" in events
    leaks = [where for where, text in seen.items() if CANARY in text]
    assert leaks == []
