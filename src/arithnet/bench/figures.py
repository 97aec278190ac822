"""Figures of the benchmark's results, and the report (summary.md and the figures) on disk.

Each figure function returns a matplotlib Figure and shows nothing; numbers come
from stats.py. Figures are made with ``Figure()`` rather than pyplot, so none
stays registered in pyplot's global list when a caller forgets to close it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from arithnet.bench.rows import CRITERIA, RunRow  # noqa: E402
from arithnet.bench.stats import sparsity_summary, success_table  # noqa: E402
from arithnet.bench.summary import OPERATION_ORDER, markdown_summary, ordered  # noqa: E402
from arithnet.files import prepare_directory, write_all  # noqa: E402


def _axes_of(rows: list[RunRow]) -> tuple[list[str], list[str]]:
    return ordered(row.unit for row in rows), ordered((row.operation for row in rows), OPERATION_ORDER)


def _offsets(n_series: int, width: float = 0.8) -> np.ndarray:
    """Horizontal offsets that place ``n_series`` markers or bars side by side around each tick."""
    return (np.arange(n_series) - (n_series - 1) / 2) * width / max(n_series, 1)


def _panels(n_panels: int, width: float = 4.5, height: float = 3.8) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(width * max(n_panels, 1), height), layout="constrained")
    axes = figure.subplots(1, max(n_panels, 1), squeeze=False, sharey=True)[0]
    return figure, list(axes)


def _empty(figure: Figure, title: str) -> Figure:
    figure.suptitle(f"{title}: no runs")
    return figure


def _percent_error_bars(entries: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    rates = np.array([entry["rate"] for entry in entries]) * 100
    lows = np.array([entry["low"] for entry in entries]) * 100
    highs = np.array([entry["high"] for entry in entries]) * 100
    return rates, np.vstack([rates - lows, highs - rates])


def success_figure(rows: Iterable[RunRow], criterion: str = "raw") -> Figure:
    """Success rate per unit and operation, bars with 95% Wilson intervals."""
    rows = list(rows)
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    if not rows:
        return _empty(figure, f"success rate ({criterion})")
    units, operations = _axes_of(rows)
    table = {(e["unit"], e["operation"]): e for e in success_table(rows, ("unit", "operation"), criterion)}
    ax = figure.subplots()
    width = 0.8 / len(units)
    for offset, unit in zip(_offsets(len(units)), units):
        present = [(i, table[unit, op]) for i, op in enumerate(operations) if (unit, op) in table]
        positions = np.array([i for i, _ in present]) + offset
        rates, errors = _percent_error_bars([entry for _, entry in present])
        ax.bar(positions, rates, width=width, yerr=errors, capsize=3, label=unit)
    ax.set_xticks(range(len(operations)), operations)
    ax.set_ylim(0, 105)
    ax.set_ylabel("success rate (%), 95% Wilson interval")
    ax.set_title(f"success rate, criterion {criterion}")
    ax.grid(True, axis="y", alpha=0.4)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def success_by_range_figure(rows: Iterable[RunRow], criterion: str = "raw") -> Figure:
    """Success rate per range: one panel per operation, one marker series per unit, 95% Wilson intervals."""
    rows = list(rows)
    units, operations = _axes_of(rows)
    figure, axes = _panels(len(operations))
    if not rows:
        return _empty(figure, f"success rate by range ({criterion})")
    ranges = ordered(row.range_name for row in rows)
    table = {
        (e["unit"], e["operation"], e["range_name"]): e
        for e in success_table(rows, ("unit", "operation", "range_name"), criterion)
    }
    for ax, operation in zip(axes, operations):
        for offset, unit in zip(_offsets(len(units)), units):
            present = [(i, table[unit, operation, r]) for i, r in enumerate(ranges) if (unit, operation, r) in table]
            if not present:
                continue
            rates, errors = _percent_error_bars([entry for _, entry in present])
            positions = np.array([i for i, _ in present]) + offset
            ax.errorbar(positions, rates, yerr=errors, fmt="o", capsize=2, markersize=4, label=unit)
        ax.set_xticks(range(len(ranges)), ranges, rotation=45, ha="right")
        ax.set_ylim(-3, 103)
        ax.set_title(operation)
        ax.grid(True, axis="y", alpha=0.4)
    axes[0].set_ylabel("success rate (%), 95% Wilson interval")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle(f"success rate by range, criterion {criterion}")
    return figure


def _strip(ax: Axes, groups: list[np.ndarray], labels: list[str]) -> None:
    """Box plot per group with every value drawn over it (evenly spread, not random, so figures are reproducible)."""
    filled = [i for i, values in enumerate(groups) if values.size]
    if filled:
        ax.boxplot([groups[i] for i in filled], positions=filled, widths=0.5, showfliers=False)
    for i in filled:
        values = groups[i]
        spread = np.linspace(-0.15, 0.15, values.size) if values.size > 1 else np.zeros(1)
        ax.plot(i + spread, values, "o", markersize=3, alpha=0.5, color="C0")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_xlim(-0.6, len(labels) - 0.4)


def solved_at_figure(rows: Iterable[RunRow], criterion: str = "raw") -> Figure:
    """Distribution of the first solving step of solved runs: one panel per operation, a box and strip per unit."""
    rows = list(rows)
    units, operations = _axes_of(rows)
    figure, axes = _panels(len(operations))
    if not rows:
        return _empty(figure, f"solved at ({criterion})")
    for ax, operation in zip(axes, operations):
        groups = [
            np.array(
                [
                    getattr(row, f"solved_at_{criterion}")
                    for row in rows
                    if row.unit == unit and row.operation == operation and getattr(row, f"solved_{criterion}")
                    and getattr(row, f"solved_at_{criterion}") is not None
                ],
                dtype=float,
            )
            for unit in units
        ]
        _strip(ax, groups, units)
        ax.set_title(operation)
        ax.grid(True, axis="y", alpha=0.4)
    axes[0].set_ylabel("solved at (step)")
    figure.suptitle(f"first solving step of solved runs, criterion {criterion}")
    return figure


def sparsity_figure(rows: Iterable[RunRow], criterion: str = "raw") -> Figure:
    """Sparsity error of solved runs: one panel per operation, a box and strip per unit, mean with beta-fit interval."""
    rows = list(rows)
    units, operations = _axes_of(rows)
    figure, axes = _panels(len(operations))
    if not rows:
        return _empty(figure, f"sparsity error ({criterion})")
    for ax, operation in zip(axes, operations):
        groups = []
        for unit in units:
            errors = np.array(
                [
                    row.sparsity_error
                    for row in rows
                    if row.unit == unit and row.operation == operation and getattr(row, f"solved_{criterion}")
                ],
                dtype=float,
            )
            groups.append(errors[np.isfinite(errors)])
        _strip(ax, groups, units)
        for i, errors in enumerate(groups):
            summary = sparsity_summary(errors)
            if np.isfinite(summary["low"]):
                error = [[summary["mean"] - summary["low"]], [summary["high"] - summary["mean"]]]
                ax.errorbar([i + 0.3], [summary["mean"]], yerr=error, fmt="D", color="C3", capsize=3, markersize=4)
        ax.set_title(operation)
        ax.grid(True, axis="y", alpha=0.4)
    axes[0].set_ylabel("sparsity error at the best step")
    figure.suptitle(f"sparsity error of solved runs (red: mean, 95% beta-fit interval), criterion {criterion}")
    return figure


FIGURES = {
    "success": success_figure,
    "success_by_range": success_by_range_figure,
    "solved_at": solved_at_figure,
    "sparsity": sparsity_figure,
}


def write_report(
    rows: Iterable[RunRow], directory: str | Path, criteria: Sequence[str] = CRITERIA
) -> list[Path]:
    """Write summary.md and, per criterion, ``<figure>_<criterion>.png``; return the paths written.

    All files are written or none (``files.write_all``): a failure leaves the
    previous report, never a partial one.
    """
    rows = list(rows)
    directory = prepare_directory(Path(directory), "report directory")

    def figure_writer(make, criterion):
        return lambda path: make(rows, criterion).savefig(path, dpi=80, format="png")

    files = [(directory / "summary.md", lambda p: p.write_text(markdown_summary(rows, criteria), encoding="utf-8"))]
    files += [
        (directory / f"{name}_{criterion}.png", figure_writer(make, criterion))
        for criterion in criteria
        for name, make in FIGURES.items()
    ]
    return write_all(files)
