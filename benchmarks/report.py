"""Figures, the statistics behind them, and the two ways they are printed (table and JSON).

A Figure holds one measured value beside its baseline, both from the same run, the ratio, the
target and whether it is met. Medians of interleaved repeated runs keep a noisy machine from
deciding the result. No measuring happens here.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Figure", "format_value", "median", "render_json", "render_table", "safe_ratio"]


@dataclass
class Figure:
    """One row of the report.

    `measured` and `baseline` are numbers in `unit` (or text for yes/no figures); `ratio` is
    measured / baseline when both are numbers; `passed` is None when the figure has no target.
    `samples` keeps the raw repeated measurements for the JSON record.
    """

    key: str
    label: str
    unit: str
    measured: float | str | None
    baseline: float | str | None
    target: str
    passed: bool | None
    ratio: float | None = None
    note: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def result(self) -> str:
        """``pass``, ``FAIL`` or ``info`` (no target)."""
        if self.passed is None:
            return "info"
        return "pass" if self.passed else "FAIL"


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else math.nan


def safe_ratio(measured: float | None, baseline: float | None) -> float | None:
    """measured / baseline, or None when either is missing, not finite, or the baseline is 0."""
    if measured is None or baseline is None:
        return None
    if not (math.isfinite(measured) and math.isfinite(baseline)) or baseline == 0:
        return None
    return measured / baseline


def format_value(value: float | str | None, unit: str) -> str:
    """A value with its unit for the table: ``1.234 s``, ``7.5 ms``, ``186 B``, ``812 ev/s``."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "n/a"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.3f} s"
    if unit in ("B", "count"):
        return f"{value:.0f}{' B' if unit == 'B' else ''}"
    if unit == "ev/s":
        return f"{value:.0f} ev/s"
    return f"{value:g} {unit}".strip()


def _ratio_text(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.3f}"


def render_table(figures: Sequence[Figure]) -> str:
    """The report as a fixed-width text table, then one note line per figure that has one."""
    header = ("figure", "measured", "baseline", "ratio", "target", "result")
    rows = [
        (
            figure.label,
            format_value(figure.measured, figure.unit),
            format_value(figure.baseline, figure.unit),
            _ratio_text(figure.ratio),
            figure.target,
            figure.result,
        )
        for figure in figures
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    out = [line(header), line(["-" * width for width in widths])]
    out += [line(row) for row in rows]
    notes = [f"- {figure.key}: {figure.note}" for figure in figures if figure.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def render_json(figures: Sequence[Figure], meta: dict[str, Any]) -> str:
    """The report as JSON: `meta` (command, sizes, machine) plus every figure with its samples."""
    items = []
    for figure in figures:
        item = asdict(figure)
        item["result"] = figure.result
        items.append(item)
    return json.dumps(_jsonable({**meta, "figures": items}), indent=2)
