"""The one benchmark command: every figure beside its baseline, both measured in this run.

    python -m benchmarks.run            # default sizes, about two minutes on 2 cores
    python -m benchmarks.run --quick    # tiny sizes, seconds (what the smoke test runs)
    python -m benchmarks.run --json     # the same figures as JSON, for the record

Run it from the repository root (it drives the provider through tests/e2e/harness.py). It prints
a table (figure, measured, baseline, ratio, target, result) on stdout and progress on stderr.
The exit status is 0 even when a target is missed, unless ``--strict`` is given; a benchmark
that cannot run is reported as a failed row and the others still run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from benchmarks.common import progress
from benchmarks.report import Figure, render_json, render_table

__all__ = ["BENCHMARKS", "DEFAULT", "QUICK", "Sizes", "main", "run"]


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does; `runs` are repetitions per subject (medians are taken)."""

    preview_resources: int
    preview_runs: int
    import_runs: int
    makespan_projects: int
    makespan_window: float
    makespan_runs: int
    makespan_skip_preview: bool
    blob_processes: int
    ingest_events: int
    ingest_runs: int


DEFAULT = Sizes(
    preview_resources=100,
    preview_runs=7,
    import_runs=21,
    makespan_projects=5,
    makespan_window=1.0,
    makespan_runs=3,
    makespan_skip_preview=False,
    blob_processes=2,
    ingest_events=1000,
    ingest_runs=3,
)

QUICK = Sizes(
    preview_resources=5,
    preview_runs=1,
    import_runs=1,
    makespan_projects=2,
    makespan_window=0.2,
    makespan_runs=1,
    makespan_skip_preview=True,
    blob_processes=1,
    ingest_events=40,
    ingest_runs=1,
)


def _preview(sizes: Sizes) -> Sequence[Figure]:
    from benchmarks.preview import measure_preview

    return measure_preview(sizes.preview_resources, sizes.preview_runs)


def _import(sizes: Sizes) -> Sequence[Figure]:
    from benchmarks.import_cost import measure_import

    return measure_import(sizes.import_runs)


def _makespan(sizes: Sizes) -> Sequence[Figure]:
    from benchmarks.makespan import measure_makespan

    return measure_makespan(
        sizes.makespan_projects,
        sizes.makespan_window,
        sizes.makespan_runs,
        skip_preview=sizes.makespan_skip_preview,
    )


def _blob(sizes: Sizes) -> Sequence[Figure]:
    from benchmarks.blob import measure_blob

    return measure_blob(sizes.blob_processes)


def _ingest(sizes: Sizes) -> Sequence[Figure]:
    from benchmarks.ingest import measure_ingest

    return [measure_ingest(sizes.ingest_events, sizes.ingest_runs)]


BENCHMARKS: dict[str, tuple[str, Callable[[Sizes], Sequence[Figure]]]] = {
    "preview": ("preview cost", _preview),
    "import": ("import cost", _import),
    "makespan": ("release makespan", _makespan),
    "blob": ("provider blob", _blob),
    "ingest": ("receiver ingest", _ingest),
}
"""Name -> (label for an error row, function). Imports are deferred so one broken benchmark
cannot stop the others."""


def run(names: Sequence[str], sizes: Sizes) -> list[Figure]:
    """Run the named benchmarks in order; one that raises becomes a failed row."""
    figures: list[Figure] = []
    for name in names:
        label, function = BENCHMARKS[name]
        started = time.perf_counter()
        try:
            figures.extend(function(sizes))
        except Exception as error:  # reported as a row; the others still run
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            figures.append(
                Figure(
                    key=f"{name}_error",
                    label=f"{label}: could not be measured",
                    unit="",
                    measured=None,
                    baseline=None,
                    target="runs",
                    passed=False,
                    note=f"{type(error).__name__}: {first}",
                )
            )
        progress(f"{label}: done in {time.perf_counter() - started:.1f} s")
    return figures


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run, seconds)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        help="run only this benchmark (repeatable); default: all",
    )
    parser.add_argument(
        "--runs", type=int, help="override every repetition count (at least 1)", metavar="N"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a figure misses its target"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    sizes = QUICK if options.quick else DEFAULT
    if options.runs is not None:
        runs = max(1, options.runs)
        sizes = dataclasses.replace(
            sizes,
            preview_runs=runs,
            import_runs=runs,
            makespan_runs=runs,
            ingest_runs=runs,
        )
    names = [name for name in BENCHMARKS if not options.only or name in options.only]
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    figures = run(names, sizes)
    elapsed = time.perf_counter() - started
    if options.json:
        meta = {
            "command": "python -m benchmarks.run "
            + " ".join(sys.argv[1:] if argv is None else argv),
            "mode": "quick" if options.quick else "default",
            "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "elapsed_seconds": round(elapsed, 1),
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "load_1min_at_start": load,
            },
            "sizes": dataclasses.asdict(sizes),
        }
        print(render_json(figures, meta))
    else:
        print(render_table(figures))
        print(
            f"\n{'quick' if options.quick else 'default'} sizes, {elapsed:.0f} s, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        )
    missed = [figure for figure in figures if figure.passed is False]
    return 1 if options.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
