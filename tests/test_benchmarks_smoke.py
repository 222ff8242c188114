"""Smoke test of benchmarks/: the one command runs with tiny sizes and reports every figure.

Only that the benchmarks run and report is checked here, never whether a target is met: timing
belongs to the benchmark itself, not to the test suite's pass/fail.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from benchmarks.report import Figure, render_table

REPO_ROOT = Path(__file__).resolve().parent.parent
README_BLOCK = re.compile(r"<!-- readme-test: benchmark -->\n```bash\n(.*?)\n```", re.DOTALL)

EXPECTED_KEYS = [
    "preview_cold",
    "preview_warm",
    "import_streampixel_pulumi",
    "import_both",
    "release_makespan",
    "release_429",
    "release_up_wall",
    "provider_blob_bytes",
    "provider_blob_identical",
    "receiver_ingest",
]


def readme_benchmark_command() -> list[str]:
    """The benchmark command the README's Performance section gives, as argv."""
    (command,) = README_BLOCK.findall((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    argv = shlex.split(command)
    assert argv[0] == "python", command
    return [sys.executable, *argv[1:]]


def test_quick_run_reports_every_figure_with_its_baseline_and_target() -> None:
    """The README's benchmark command, with `--quick --json`, measures every figure."""
    done = subprocess.run(
        [*readme_benchmark_command(), "--quick", "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    figures = {item["key"]: item for item in report["figures"]}
    assert list(figures) == EXPECTED_KEYS, [item.get("note") for item in report["figures"]]
    for key, item in figures.items():
        assert item["measured"] is not None, key
        assert item["baseline"] is not None, key
        assert item["target"], key
        assert item["result"] in ("pass", "FAIL", "info"), key
    for key in ("preview_cold", "preview_warm", "import_both", "release_makespan"):
        assert figures[key]["ratio"] > 0, key
    assert report["mode"] == "quick"


def test_table_shows_measured_baseline_ratio_target_and_result() -> None:
    """The table has one row per figure with its measured value, baseline, ratio and verdict."""
    figures = [
        Figure("a", "preview", "s", 0.5, 0.4, "ratio <= 1.10", False, ratio=1.25, note="n"),
        Figure("b", "blob", "B", 96.0, 80.0, "<= 300 B", True, ratio=1.2),
        Figure("c", "ingest", "ev/s", 600.0, 900.0, "-", None),
    ]
    lines = render_table(figures).splitlines()
    assert lines[0].split() == ["figure", "measured", "baseline", "ratio", "target", "result"]
    assert lines[2].split() == [
        "preview",
        "500.0",
        "ms",
        "400.0",
        "ms",
        "1.250",
        "ratio",
        "<=",
        "1.10",
        "FAIL",
    ]
    assert lines[3].split() == ["blob", "96", "B", "80", "B", "1.200", "<=", "300", "B", "pass"]
    assert lines[4].split() == ["ingest", "600", "ev/s", "900", "ev/s", "-", "-", "info"]
    assert lines[-1] == "- a: n"
