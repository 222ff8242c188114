"""What every benchmark shares: the repository root, a clean environment for child processes,
running a Python snippet in a fresh interpreter with a time limit, and progress lines on stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["PYTHON", "REPO_ROOT", "child_env", "progress", "run_python"]

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def progress(text: str) -> None:
    """One progress line on stderr (stdout is kept for the table or the JSON)."""
    sys.stderr.write(f"benchmarks: {text}\n")
    sys.stderr.flush()


def child_env(
    extra: Mapping[str, str] | None = None, *, pythonpath: Path | None = REPO_ROOT
) -> dict[str, str]:
    """This environment without STREAMPIXEL_*, PULUMI_* and PYTHON* variables, plus `extra`.

    `pythonpath` is put first on the child's import path (the repository root by default, so
    that ``benchmarks.noop_provider`` unpickles); None leaves the path alone.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STREAMPIXEL_", "PULUMI_", "PYTHON"))
    }
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    env.update(extra or {})
    return env


def run_python(code: str, *, env: Mapping[str, str], cwd: Path, timeout: float) -> str:
    """Run `code` with ``python -c`` in a fresh process; return its stdout or raise with stderr."""
    done = subprocess.run(
        [PYTHON, "-c", code],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        msg = f"child process failed (exit {done.returncode}): {tail}"
        raise RuntimeError(msg)
    return done.stdout
