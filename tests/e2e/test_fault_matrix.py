"""End-to-end: the fault matrix (tests/e2e/fault_matrix.py), one test per row, and its script.

Every row starts from a stack that released upload A, injects one fault and runs ``up`` to
upload B against the emulator. Each must end as its row says (typed error or success, the
state, what Streampixel did, how many distribute-file calls reached it) and be honest: the
state names B only when Streampixel accepted B, and a failure after which Streampixel may have
distributed says so and was not retried. The README's table must be the matrix's.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fault_matrix import (
    MATRIX_API_KEY,
    ROWS,
    MatrixRig,
    Row,
    RowResult,
    expected_cells,
    honesty_problems,
    matrix_rig,
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "fault-matrix"
README = REPO / "README.md"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MatrixRig]:
    """An emulator behind a TCP fault proxy, and the state of a real release of A."""
    with matrix_rig(tmp_path_factory.mktemp("fault-matrix")) as started:
        started.release_a()
        yield started


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_fault_keeps_old_state_or_records_new_one_honestly(rig: MatrixRig, row: Row) -> None:
    """The fault ends as its row says, the state tells the truth and the key shows nowhere."""
    result = rig.run(row)
    assert row.problems(result) == [], result
    assert honesty_problems(result) == [], result
    visible = "\n".join([*result.lines, result.message, result.details, json.dumps(result.outputs)])
    assert MATRIX_API_KEY not in visible


def test_calls_that_may_have_landed_are_never_repeated() -> None:
    """Every row whose error says the call may have landed expects at most one call."""
    landed = [row for row in ROWS if row.landed]
    assert landed
    assert all(row.calls <= 1 for row in landed)


def test_reset_before_request_accepts_only_its_two_honest_endings() -> None:
    """A reset met while reading (may have landed) or while writing (safe retry) both pass."""
    (row,) = [row for row in ROWS if row.name == "reset-before-request"]
    read_reset = _result(outcome="TransportError", state="A", streampixel="A", calls=0, landed=True)
    write_reset = _result(outcome="success", state="B", streampixel="B", calls=1, landed=False)
    repeated = _result(outcome="success", state="B", streampixel="B", calls=2, landed=False)
    assert row.problems(read_reset) == []
    assert row.problems(write_reset) == []
    assert row.problems(repeated) != []


def _result(*, outcome: str, state: str, streampixel: str, calls: int, landed: bool) -> RowResult:
    return RowResult(
        name="reset-before-request",
        fault="",
        injected="",
        outcome=outcome,
        message="may have reached Streampixel" if landed else "",
        state=state,
        streampixel=streampixel,
        calls=calls,
        statuses=[],
        says_may_have_landed=landed,
        b_distributions=1 if streampixel == "B" else 0,
        seconds=0.0,
    )


def test_script_prints_the_table_and_exits_zero() -> None:
    """scripts/fault-matrix runs the chosen rows and prints them as a Markdown table."""
    done = subprocess.run(
        [str(SCRIPT), "--only", "http-500", "--only", "429-then-accepted"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("| fault | injected as | outcome |")
    for name in ("http-500", "429-then-accepted"):
        row = next(row for row in ROWS if row.name == name)
        assert any(line.startswith("| " + " | ".join(expected_cells(row))) for line in lines)
    assert "2 rows; 2 as expected; 2 honest" in done.stdout


def test_script_prints_every_field_as_json() -> None:
    """``--json`` prints each row's outcome, state, calls, statuses and provider lines."""
    done = subprocess.run(
        [str(SCRIPT), "--json", "--only", "reset-after-request"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert result["outcome"] == "TransportError"
    assert result["state"] == "A"
    assert result["streampixel"] == "B"
    assert result["statuses"] == [200]
    assert result["says_may_have_landed"] is True
    assert any("distributing upload" in line for line in result["lines"])


def _readme_matrix() -> dict[str, list[str]]:
    """The README's matrix table under "## Reliability": fault -> cells."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Reliability\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| fault |"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0]] = cells
    return rows


def test_readme_table_is_the_matrix() -> None:
    """The README shows one line per row, with the outcome, state and calls the row expects."""
    table = _readme_matrix()
    assert sorted(table) == sorted(row.fault for row in ROWS)
    for row in ROWS:
        assert table[row.fault][:7] == expected_cells(row), row.name
