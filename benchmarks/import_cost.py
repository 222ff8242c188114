"""Import cost: ``import streampixel_pulumi`` against ``import pulumi``, each in a fresh process.

Every Pulumi program imports pulumi; importing this package as well must add next to nothing.
Two figures share the baseline ``import pulumi``: ``import streampixel_pulumi`` alone (the
issue's figure) and ``import pulumi, streampixel_pulumi`` (what a program that already imports
pulumi pays in total). Each sample is the time of the import statements alone, taken inside a
fresh interpreter (so the interpreter's own start-up, equal for all, does not dilute the ratio).
Runs alternate between the three, after one untimed warm-up of each (bytecode and file caches).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import child_env, progress, run_python
from benchmarks.report import Figure, median, safe_ratio

__all__ = ["TARGET_RATIO", "measure_import"]

TARGET_RATIO = 1.05

_SNIPPET = """\
import sys, time
start = time.perf_counter()
import {modules}
elapsed = time.perf_counter() - start
assert all(name in sys.modules for name in "{modules}".split(", "))
print(elapsed)
"""
_CASES = {
    "pulumi": "pulumi",
    "streampixel_pulumi": "streampixel_pulumi",
    "both": "pulumi, streampixel_pulumi",
}


def _time_import(modules: str, cwd: Path) -> float:
    env = child_env()
    out = run_python(_SNIPPET.format(modules=modules), env=env, cwd=cwd, timeout=60.0)
    return float(out.strip().splitlines()[-1])


def measure_import(runs: int) -> tuple[Figure, Figure]:
    """(package alone, package after pulumi) against ``import pulumi``, `runs` processes each."""
    samples: dict[str, list[float]] = {case: [] for case in _CASES}
    # A neutral working directory; the package comes from this checkout (PYTHONPATH).
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        cwd = Path(scratch)
        for modules in _CASES.values():
            _time_import(modules, cwd)
        for index in range(runs):
            progress(f"import cost: run {index + 1}/{runs}")
            cases = list(_CASES.items())
            # Rotate who goes first, so no case always follows the same one.
            for case, modules in cases[index % 3 :] + cases[: index % 3]:
                samples[case].append(_time_import(modules, cwd))
    base = median(samples["pulumi"])
    figures = []
    for case, label in (
        ("streampixel_pulumi", "import cost: import streampixel_pulumi vs import pulumi"),
        ("both", "import cost: import pulumi, streampixel_pulumi vs import pulumi"),
    ):
        measured = median(samples[case])
        ratio = safe_ratio(measured, base)
        figures.append(
            Figure(
                key=f"import_{case}",
                label=label,
                unit="s",
                measured=measured,
                baseline=base,
                ratio=ratio,
                target=f"ratio <= {TARGET_RATIO:.2f}",
                passed=ratio is not None and ratio <= TARGET_RATIO,
                note=f"median of {runs} fresh process(es) each, alternating; import statements only",
                samples={case: samples[case], "pulumi": samples["pulumi"]},
            )
        )
    return figures[0], figures[1]
