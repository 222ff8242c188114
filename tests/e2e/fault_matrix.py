"""The fault matrix: every failure Streampixel or the network can produce, run end to end.

One `Row` per fault says how to inject it and what must come out. Each row starts from a stack
that has released upload A (the state a real ``up`` recorded), changes the stack to upload B,
injects the fault (an emulator fault, a TCP fault of `TcpFaultProxy`, or a real condition such
as a rotated key) and runs ``pulumi up`` through the engine-protocol harness against the
emulator. It records the outcome (the typed error and its message, or success), what the
stack's state says afterwards, what Streampixel (the emulator) actually did, how many
distribute-file calls reached it, and whether the error says the call may have taken effect.

Shared by tests/e2e/test_fault_matrix.py (one test per row) and scripts/fault-matrix::

    python -m tests.e2e.fault_matrix                 # the table, as in the README
    python -m tests.e2e.fault_matrix --json          # every field of every row
    python -m tests.e2e.fault_matrix --only http-500 --only 401-invalid-key
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from streampixel_pulumi.emulator.control import EmulatorControl, EmulatorControlError
from streampixel_pulumi.emulator.demo import DEMO_PROJECT_ID, DEMO_UPLOAD_IDS, DEMO_USER_ID
from streampixel_pulumi.emulator.tcpfaults import TcpFault, TcpFaultProxy
from tests.e2e.harness import OperationFailed, ProviderError, ResourceState, Stack, copy_program

__all__ = [
    "MATRIX_API_KEY",
    "ROWS",
    "MatrixRig",
    "Row",
    "RowResult",
    "expected_cells",
    "gist",
    "honesty_problems",
    "main",
    "matrix_rig",
    "render_table",
    "says_may_have_landed",
    "table_row",
]

PROJECT = DEMO_PROJECT_ID
USER = DEMO_USER_ID
A, B = DEMO_UPLOAD_IDS
DISTRIBUTE = "/projects/distribute-file"
MATRIX_API_KEY = "sp_fault_matrix_key_3f9c2e7a1b"  # fake; recognisable if it ever leaked
ROTATED_KEY = "sp_fault_matrix_rotated_8d4e6a"

WINDOW = 1.0  # the emulator's rate-limit window and streampixel:rateLimitSeconds
HTTP_TIMEOUT = 2.0  # streampixel:httpTimeoutSeconds of every row but the timeouts
SHORT_TIMEOUT = 0.5  # ... of the rows whose answer never comes in time
DEADLINE = 10.0  # streampixel:deadlineSeconds of every row but "past the deadline"
SHORT_DEADLINE = 3.0  # waits of WINDOW: calls at about 0, 1 and 2 s, then the deadline

_MAY_HAVE = re.compile(r"may (?:or may not )?have|unknown whether", re.IGNORECASE)


def says_may_have_landed(message: str) -> bool:
    """Whether an error message warns that the call may have taken effect on Streampixel."""
    return bool(_MAY_HAVE.search(message))


# ------------------------------------------------------------------------------ the rows
Inject = Callable[["MatrixRig"], "Callable[[], None] | None"]


@dataclass(frozen=True)
class Row:
    """One fault: how to inject it and what the run must show afterwards.

    `outcome` is "success" or the error class; `state` the upload the stack's state names
    afterwards ("A" kept or "B" recorded); `streampixel` what the emulator distributed ("B" or
    "A" for nothing new); `calls` the distribute-file requests that reached it; `landed` whether
    the error must say the call may have taken effect.
    """

    name: str
    fault: str
    injected: str
    inject: Inject
    outcome: str
    state: str
    streampixel: str
    calls: int
    landed: bool = False
    config: dict[str, str] = field(default_factory=dict)
    closed_port: bool = False
    alternative: tuple[str, str, str, int] | None = None
    """Another honest ending (outcome, state, streampixel, calls) that timing alone decides."""

    def problems(self, result: RowResult) -> list[str]:
        """How `result` differs from this row's expectations (empty when it matches)."""
        expected = (self.outcome, self.state, self.streampixel, self.calls)
        found = _differences(expected, self.landed, result)
        if found and self.alternative is not None:
            if not _differences(self.alternative, False, result):
                return []
            found.append(f"nor the alternative {self.alternative!r}")
        return found


def _differences(expected: tuple[str, str, str, int], landed: bool, result: RowResult) -> list[str]:
    """How `result` differs from one expected (outcome, state, streampixel, calls) ending."""
    found = []
    for name, want in zip(("outcome", "state", "streampixel", "calls"), expected, strict=True):
        got = getattr(result, name)
        if want != got:
            found.append(f"{name}: expected {want!r}, got {got!r}")
    if expected[0] != "success" and result.says_may_have_landed != landed:
        found.append(
            f"the error {'does not say' if landed else 'says'} the call may have "
            f"taken effect: {result.message!r}"
        )
    return found


def _fault(**fault: Any) -> Inject:
    def inject(rig: MatrixRig) -> None:
        rig.control.add_fault(DISTRIBUTE, **fault)

    return inject


def _tcp(fault: TcpFault) -> Inject:
    def inject(rig: MatrixRig) -> None:
        rig.proxy.inject(fault)

    return inject


def _nothing(_rig: MatrixRig) -> None:
    return None


def _rotate_key(rig: MatrixRig) -> None:
    rig.control.set_api_key(USER, ROTATED_KEY)


def _disable_project(rig: MatrixRig) -> None:
    rig.control.update_project(PROJECT, enabled=False)


def _without_project(rig: MatrixRig) -> None:
    rig.reset(project=False)


def _without_upload_b(rig: MatrixRig) -> None:
    rig.reset(upload_b=False)


def _b_processing(rig: MatrixRig) -> None:
    rig.reset(upload_b_status="Downloading Files")


def _b_ready_after_first_refusal(rig: MatrixRig) -> Callable[[], None]:
    """B is still processing; it is stored as soon as Streampixel has refused it once."""
    rig.reset(upload_b_status="Downloading Files")

    def finish() -> None:
        rig.control.wait_for(
            lambda: any(c["status"] == 400 for c in rig.control.requests(DISTRIBUTE)),
            timeout=30,
            what="a File has no URL answer",
        )
        rig.control.seed({"uploads": [rig.upload_seed(B, "Approved")]})

    watcher = threading.Thread(target=finish, daemon=True)
    watcher.start()
    return lambda: watcher.join(30)


_HTML_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
)
_HTML_PAGE = (
    "<!doctype html><html><body><h1>Scheduled maintenance</h1><p>Back soon.</p></body></html>"
)
_TRUNCATED = f'{{"success": true, "uploadId": "{B}", "message": "File distribution trig'
_TRY_IN_1 = {"message": "Rate limit exceeded. Try again in 1 seconds."}
_SHORT_DEADLINE = {"streampixel:deadlineSeconds": f"{SHORT_DEADLINE:g}"}
_SHORT_HTTP = {"streampixel:httpTimeoutSeconds": f"{SHORT_TIMEOUT:g}"}

ROWS: tuple[Row, ...] = (
    Row(
        "http-500",
        "500 Internal server error",
        "emulator fault: status 500",
        _fault(status=500),
        "ServerError",
        "A",
        "A",
        1,
        landed=True,
    ),
    Row(
        "http-500-after-distributing",
        "500 after Streampixel distributed",
        "emulator fault: status 500, process=True",
        _fault(status=500, process=True),
        "ServerError",
        "A",
        "B",
        1,
        landed=True,
    ),
    Row(
        "http-502-html",
        "502 from a gateway (HTML)",
        "emulator fault: status 502, text/html body",
        _fault(status=502, raw_body=_HTML_502, content_type="text/html"),
        "ServerError",
        "A",
        "A",
        1,
        landed=True,
    ),
    Row(
        "http-503",
        "503 Service Unavailable",
        "emulator fault: status 503",
        _fault(status=503),
        "ServerError",
        "A",
        "A",
        1,
        landed=True,
    ),
    Row(
        "connection-refused",
        "connection refused",
        f"apiUrl on a closed port; deadline {SHORT_DEADLINE:g} s",
        _nothing,
        "WaitTimeout",
        "A",
        "A",
        0,
        config=_SHORT_DEADLINE,
        closed_port=True,
    ),
    Row(
        "reset-before-request",
        "connection reset before the request is forwarded",
        "TCP proxy: RESET_ON_ACCEPT",
        _tcp(TcpFault.RESET_ON_ACCEPT),
        "TransportError",
        "A",
        "A",
        0,
        landed=True,
        # Usually httpx meets the reset when it reads (it cannot know whether the request
        # landed); when the reset beats the write, nothing was sent and the retry succeeds.
        alternative=("success", "B", "B", 1),
    ),
    Row(
        "reset-after-request",
        "connection reset after the request was handled",
        "TCP proxy: RESET_AFTER_REQUEST",
        _tcp(TcpFault.RESET_AFTER_REQUEST),
        "TransportError",
        "A",
        "B",
        1,
        landed=True,
    ),
    Row(
        "read-timeout",
        "read timeout (handled, answer too late)",
        f"emulator fault: process=True, delay 3 s; httpTimeout {SHORT_TIMEOUT:g} s",
        _fault(process=True, delay=3.0),
        "TransportError",
        "A",
        "B",
        1,
        landed=True,
        config=_SHORT_HTTP,
    ),
    Row(
        "no-answer",
        "no answer at all (black hole)",
        f"TCP proxy: BLACKHOLE; httpTimeout {SHORT_TIMEOUT:g} s",
        _tcp(TcpFault.BLACKHOLE),
        "TransportError",
        "A",
        "A",
        0,
        landed=True,
        config=_SHORT_HTTP,
    ),
    Row(
        "answer-cut-off",
        "answer cut off after Streampixel distributed",
        "emulator fault: drop=True, process=True",
        _fault(drop=True, process=True),
        "TransportError",
        "A",
        "B",
        1,
        landed=True,
    ),
    Row(
        "slow-response",
        "slow response, within the HTTP timeout",
        f"emulator fault: process=True, delay 0.5 s; httpTimeout {HTTP_TIMEOUT:g} s",
        _fault(process=True, delay=0.5),
        "success",
        "B",
        "B",
        1,
    ),
    Row(
        "malformed-json",
        "200 with malformed JSON",
        "emulator fault: status 200, truncated JSON, process=True",
        _fault(status=200, raw_body=_TRUNCATED, content_type="application/json", process=True),
        "UnexpectedResponse",
        "A",
        "B",
        1,
        landed=True,
    ),
    Row(
        "html-page",
        "an HTML error page (200 text/html)",
        "emulator fault: status 200, text/html body",
        _fault(status=200, raw_body=_HTML_PAGE, content_type="text/html"),
        "UnexpectedResponse",
        "A",
        "A",
        1,
        landed=True,
    ),
    Row(
        "success-false",
        '200 with "success": false',
        'emulator fault: status 200, {"success": false, "message": ...}',
        _fault(status=200, body={"success": False, "message": "Distribution could not start"}),
        "UnexpectedResponse",
        "A",
        "A",
        1,
    ),
    Row(
        "unexpected-2xx-body",
        "200 with an unexpected body",
        'emulator fault: status 200, {"result": "queued"}, process=True',
        _fault(status=200, body={"result": "queued"}, process=True),
        "UnexpectedResponse",
        "A",
        "B",
        1,
        landed=True,
    ),
    Row(
        "429-then-accepted",
        "429 asking for 1 s, then accepted",
        'emulator fault: status 429 "Try again in 1 seconds", once',
        _fault(status=429, body=_TRY_IN_1),
        "success",
        "B",
        "B",
        2,
    ),
    Row(
        "429-no-hint",
        "429 with no hint (120 s assumed)",
        'emulator fault: status 429, {"message": "Too many requests"}',
        _fault(status=429, body={"message": "Too many requests"}),
        "WaitTimeout",
        "A",
        "A",
        1,
    ),
    Row(
        "429-past-deadline",
        "429s past the deadline",
        f'emulator fault: status 429 "Try again in 1 seconds", 10 times; deadline {SHORT_DEADLINE:g} s',
        _fault(status=429, body=_TRY_IN_1, count=10),
        "WaitTimeout",
        "A",
        "A",
        3,
        config=_SHORT_DEADLINE,
    ),
    Row(
        "no-url-then-ready",
        '"File has no URL", then stored',
        "B still processing; stored after the first 400",
        _b_ready_after_first_refusal,
        "success",
        "B",
        "B",
        2,
    ),
    Row(
        "no-url-past-deadline",
        '"File has no URL" past the deadline',
        f"B still processing; deadline {SHORT_DEADLINE:g} s",
        _b_processing,
        "WaitTimeout",
        "A",
        "A",
        3,
        config=_SHORT_DEADLINE,
    ),
    Row(
        "401-invalid-key",
        "401 Unauthorized: Invalid API Key",
        "the user's key rotated in the emulator",
        _rotate_key,
        "AuthError",
        "A",
        "A",
        1,
    ),
    Row(
        "403-access-denied",
        "403 Access denied",
        "the project disabled in the emulator",
        _disable_project,
        "AccessDenied",
        "A",
        "A",
        1,
    ),
    Row(
        "404-project",
        "404 Project not found",
        "the project removed from the emulator",
        _without_project,
        "ProjectNotFound",
        "A",
        "A",
        1,
    ),
    Row(
        "404-upload",
        "404 File not found in project",
        "upload B removed from the emulator",
        _without_upload_b,
        "UploadNotFound",
        "A",
        "A",
        1,
    ),
)


# ---------------------------------------------------------------------------- results
@dataclass
class RowResult:
    """What one row's ``pulumi up`` did (labels: "A", "B" or another upload id)."""

    name: str
    fault: str
    injected: str
    outcome: str
    message: str
    state: str
    streampixel: str
    calls: int
    statuses: list[int | None]
    says_may_have_landed: bool
    b_distributions: int
    seconds: float
    lines: list[str] = field(default_factory=list)
    details: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Every field, for ``--json``."""
        return asdict(self)


def honesty_problems(result: RowResult) -> list[str]:
    """Ways `result` misreports what happened (empty when the run told the truth).

    The state names B only if Streampixel accepted B and the run succeeded; a run that fails
    while Streampixel distributed B says so; B is never distributed twice; and a call that may
    have landed is never repeated.
    """
    found = []
    if (result.state == "B") != (result.outcome == "success"):
        found.append(f"state {result.state} after outcome {result.outcome}")
    if result.state == "B" and result.streampixel != "B":
        found.append("the state records B, which Streampixel did not distribute")
    if result.state == "A" and result.streampixel == "B" and not result.says_may_have_landed:
        found.append("Streampixel distributed B but the error does not say it may have")
    if result.b_distributions > 1:
        found.append(f"B was distributed {result.b_distributions} times")
    if result.outcome != "success" and result.says_may_have_landed and result.calls > 1:
        found.append(f"a call that may have landed was repeated ({result.calls} calls)")
    return found


def _label(upload_id: Any) -> str:
    return {A: "A", B: "B"}.get(upload_id, str(upload_id))


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------- rig
class MatrixRig:
    """The emulator (behind a TCP fault proxy) and a stack that has released A.

    Args:
        emulator_url: root URL of a running emulator (in a thread or another process).
        workdir: where each row's copy of the test program and its pacing cache go.
        api_key: the API key the emulator's user has and the stacks use (a secret).
        webhook_url: the project's webhook URL in the emulator (None: no webhooks).
    """

    def __init__(
        self,
        emulator_url: str,
        workdir: Path,
        *,
        api_key: str = MATRIX_API_KEY,
        webhook_url: str | None = None,
    ) -> None:
        self.control = EmulatorControl(emulator_url)
        self.proxy = TcpFaultProxy(int(emulator_url.rsplit(":", 1)[1]))
        self.workdir = workdir
        self.api_key = api_key
        self.webhook_url = webhook_url
        self.stacks: list[Stack] = []
        self._baseline: dict[str, ResourceState] = {}

    # ------------------------------------------------------------------------ world
    def upload_seed(self, upload_id: str, status: str) -> dict[str, Any]:
        """The seed entry of one upload of the project."""
        return {
            "upload_id": upload_id,
            "project_id": PROJECT,
            "status": status,
            "file_url": f"https://builds.example.invalid/{upload_id}.zip",
            "auto_release": False,
        }

    def reset(
        self,
        *,
        live: str | None = A,
        project: bool = True,
        upload_b: bool = True,
        upload_b_status: str = "Approved",
    ) -> None:
        """A fresh emulator: the user, the project with A live, uploads A and B, fast timings."""
        projects, uploads = [], []
        if project:
            projects.append(
                {
                    "project_id": PROJECT,
                    "user_id": USER,
                    "name": "Fault matrix",
                    "region": "europe",
                    "enabled": True,
                    "live_upload_id": live,
                    "webhook_url": self.webhook_url,
                }
            )
            uploads.append(self.upload_seed(A, "Approved"))
            if upload_b:
                uploads.append(self.upload_seed(B, upload_b_status))
        seed = {
            "users": [{"user_id": USER, "api_key": self.api_key}],
            "projects": projects,
            "uploads": uploads,
        }
        self.control.reset(seed)
        # Nothing but "B still processing" moves through the pipeline, and it must not.
        self.control.update_settings(
            rate_limit_window=WINDOW, stage_seconds=600.0, distribute_seconds=0.05
        )

    # ----------------------------------------------------------------------- stacks
    def stack(self, name: str, upload_id: str, *, closed_port: bool = False) -> Stack:
        """A copy of the one-release program aimed at the proxy, with its own pacing cache."""
        directory = copy_program("release", self.workdir / name)
        stack = Stack(directory, "dev", env={"STREAMPIXEL_CACHE_DIR": str(directory / "cache")})
        base = f"http://127.0.0.1:{_closed_port()}" if closed_port else self.proxy.url
        settings = {
            "streampixel:apiUrl": f"{base}/pixelStripeApi",
            "streampixel:userId": USER,
            "streampixel:rateLimitSeconds": f"{WINDOW:g}",
            "streampixel:progressSeconds": "1",
            "streampixel:httpTimeoutSeconds": f"{HTTP_TIMEOUT:g}",
            "streampixel:deadlineSeconds": f"{DEADLINE:g}",
            "projectId": PROJECT,
            "uploadId": upload_id,
        }
        for key, value in settings.items():
            stack.config.set(key, value)
        stack.config.set("streampixel:apiKey", self.api_key, secret=True)
        self.stacks.append(stack)
        return stack

    def release_a(self) -> None:
        """Release A for real once; every row starts from the state this recorded."""
        self.reset(live=None)
        stack = self.stack("baseline", A)
        stack.up(skip_preview=True)
        if stack.outputs("release")["upload_id"] != A:
            msg = "the baseline release of A did not record A"
            raise RuntimeError(msg)
        self._baseline = copy.deepcopy(stack.state)

    # -------------------------------------------------------------------------- rows
    def run(self, row: Row) -> RowResult:
        """Run one row: from A released, inject the fault, ``up`` to B, record what happened."""
        if not self._baseline:
            self.release_a()
        self.reset()
        stack = self.stack(row.name, B, closed_port=row.closed_port)
        for key, value in row.config.items():
            stack.config.set(key, value)
        stack.state = copy.deepcopy(self._baseline)
        finish = row.inject(self)
        started = time.monotonic()
        error: BaseException | None = None
        try:
            stack.up(skip_preview=True)
        except OperationFailed as failed:
            (error,) = failed.errors
        finally:
            if finish is not None:
                finish()
        seconds = time.monotonic() - started
        return self._result(row, stack, error, seconds)

    def _result(
        self, row: Row, stack: Stack, error: BaseException | None, seconds: float
    ) -> RowResult:
        calls = self.control.requests(DISTRIBUTE)
        try:
            history = self.control.project(PROJECT)["history"]
        except EmulatorControlError:  # the row removed the project
            history = []
        distributed = [entry["upload_id"] for entry in history]
        if isinstance(error, ProviderError):
            outcome, message, details = (
                error.error_type.rsplit(".", 1)[-1],
                error.message,
                error.details,
            )
        elif error is not None:
            outcome, message, details = type(error).__name__, str(error), ""
        else:
            outcome, message, details = "success", "", ""
        return RowResult(
            name=row.name,
            fault=row.fault,
            injected=row.injected,
            outcome=outcome,
            message=message,
            state=_label(stack.outputs("release")["upload_id"]),
            streampixel="B" if B in distributed else "A",
            calls=len(calls),
            statuses=[call["status"] for call in calls],
            says_may_have_landed=bool(message) and says_may_have_landed(message),
            b_distributions=distributed.count(B),
            seconds=round(seconds, 2),
            lines=list(stack.lines),
            details=details,
            outputs=stack.outputs("release"),
        )

    # ---------------------------------------------------------------------- plumbing
    def start(self) -> None:
        """Start the TCP proxy."""
        self.proxy.start()

    def stop(self) -> None:
        """Stop the proxy and close the control client."""
        self.proxy.stop()
        self.control.close()


@contextlib.contextmanager
def matrix_rig(
    workdir: Path,
    *,
    emulator_url: str | None = None,
    api_key: str = MATRIX_API_KEY,
    webhook_url: str | None = None,
) -> Iterator[MatrixRig]:
    """A started rig; with no `emulator_url` it runs its own emulator in a thread."""
    with contextlib.ExitStack() as stack:
        if emulator_url is None:
            from streampixel_pulumi.emulator.server import EmulatorServer

            emulator_url = stack.enter_context(EmulatorServer(port=0)).url
        rig = MatrixRig(emulator_url, workdir, api_key=api_key, webhook_url=webhook_url)
        rig.start()
        stack.callback(rig.stop)
        yield rig


# ------------------------------------------------------------------------------- table
_COLUMNS = (
    "fault",
    "injected as",
    "outcome",
    "state after",
    "Streampixel",
    "distribute calls",
    "error says it may have taken effect",
    "the error says (abridged)",
)


_CLAIM = re.compile(
    r"may (?:or may not )?have|unknown whether|not triggered|Nothing was distributed|"
    r"did not reach",
    re.IGNORECASE,
)


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def gist(message: str) -> str:
    """The message's first sentence and the one saying whether anything happened (else the fix)."""
    short = message.replace(PROJECT, "P").replace(A, "A").replace(B, "B")
    sentences = re.split(r"(?<=\.) ", short)
    claim = next((s for s in sentences[1:] if _CLAIM.search(s)), None)
    if claim is None and len(sentences) > 1:
        claim = sentences[1]
    parts = [_shorten(sentences[0], 80)] + ([_shorten(claim, 100)] if claim else [])
    return " / ".join(parts).replace("|", "\\|")


def _cells(
    fault: str,
    injected: str,
    outcome: str,
    state: str,
    streampixel: str,
    calls: int,
    landed: bool,
) -> list[str]:
    failed = outcome != "success"
    return [
        fault,
        injected,
        f"`{outcome}`" if failed else "success",
        "A kept" if state == "A" else f"{state} recorded",
        "B distributed" if streampixel == "B" else "nothing new",
        str(calls),
        ("yes" if landed else "no") if failed else "",
    ]


def table_row(result: RowResult) -> list[str]:
    """The cells of one result in the printed table."""
    cells = _cells(
        result.fault,
        result.injected,
        result.outcome,
        result.state,
        result.streampixel,
        result.calls,
        result.says_may_have_landed,
    )
    return [*cells, gist(result.message) if result.outcome != "success" else ""]


def expected_cells(row: Row) -> list[str]:
    """The cells a run of `row` must print, but the last (the message, which may vary)."""
    return _cells(
        row.fault, row.injected, row.outcome, row.state, row.streampixel, row.calls, row.landed
    )


def render_table(results: Sequence[RowResult]) -> str:
    """The matrix as a Markdown table."""
    lines = [
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "|".join("---" for _ in _COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(table_row(result)) + " |" for result in results]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rows (all, or those named by --only) and print the table or JSON."""
    parser = argparse.ArgumentParser(
        prog="scripts/fault-matrix",
        description="Run the fault matrix against a local emulator and print what happened. "
        "A is the upload the stack released before, B the one each run asks for; "
        "P is the project.",
    )
    parser.add_argument("--json", action="store_true", help="print every field as JSON")
    parser.add_argument(
        "--only",
        action="append",
        metavar="ROW",
        choices=[row.name for row in ROWS],
        help="run only this row (repeatable)",
    )
    args = parser.parse_args(argv)
    rows = [row for row in ROWS if not args.only or row.name in args.only]
    results: list[RowResult] = []
    failures: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="fault-matrix-") as scratch,
        matrix_rig(Path(scratch)) as rig,
    ):
        for row in rows:
            result = rig.run(row)
            results.append(result)
            for problem in row.problems(result) + honesty_problems(result):
                failures.append(f"{row.name}: {problem}")
    if args.json:
        print(json.dumps([result.as_json() for result in results], indent=2))
    else:
        print(render_table(results))
        print()
        honest = sum(1 for result in results if not honesty_problems(result))
        print(
            f"{len(results)} rows; {len(results) - len({f.split(':')[0] for f in failures})} as "
            f"expected; {honest} honest (the old state kept, or the new one recorded only "
            "when Streampixel accepted it)."
        )
    for failure in failures:
        print(f"UNEXPECTED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
