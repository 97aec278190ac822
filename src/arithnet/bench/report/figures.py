"""Figures of the benchmark's results, and the report (summary.md and the figures) on disk.

Each figure function takes statistics already computed (a ``success_table`` or
the long table of verdicts), returns a matplotlib Figure and shows nothing;
``write_report`` computes the statistics from the stored rows, then draws.
Figures are made with ``Figure()`` rather than pyplot, so none stays
registered in pyplot's global list when a caller forgets to close it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from arithnet.bench.protocol import CRITERIA, CriterionVerdict, RunRow
from arithnet.bench.protocol.verdicts import verdicts
from arithnet.bench.report.stats import success_table
from arithnet.bench.report.summary import OPERATION_ORDER, line_rows, markdown_summary, ordered
from arithnet.files import prepare_directory, text_writer, write_all


def _table_axes(table: list[dict]) -> tuple[list[str], list[str]]:
    return ordered(e["unit"] for e in table), ordered((e["operation"] for e in table), OPERATION_ORDER)


def _of_criterion(records: Iterable[CriterionVerdict], criterion: str) -> list[CriterionVerdict]:
    return [record for record in records if record.criterion == criterion]


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


def success_figure(table: list[dict], criterion: str = "raw") -> Figure:
    """Success rate per unit and operation, bars with 95% Wilson intervals.

    ``table`` is ``success_table(..., by=("unit", "operation"), criterion=criterion)``: one bar per entry.
    """
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    if not table:
        return _empty(figure, f"success rate ({criterion})")
    units, operations = _table_axes(table)
    by_group = {(e["unit"], e["operation"]): e for e in table}
    ax = figure.subplots()
    width = 0.8 / len(units)
    for offset, unit in zip(_offsets(len(units)), units, strict=True):
        present = [(i, by_group[unit, op]) for i, op in enumerate(operations) if (unit, op) in by_group]
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


def success_by_range_figure(table: list[dict], criterion: str = "raw") -> Figure:
    """Success rate per range: one panel per operation, one marker series per unit, 95% Wilson intervals.

    ``table`` is ``success_table(..., by=("unit", "operation", "range_name"), criterion=criterion)``.
    """
    units, operations = _table_axes(table)
    figure, axes = _panels(len(operations))
    if not table:
        return _empty(figure, f"success rate by range ({criterion})")
    ranges = ordered(e["range_name"] for e in table)
    by_group = {(e["unit"], e["operation"], e["range_name"]): e for e in table}
    for ax, operation in zip(axes, operations, strict=True):
        for offset, unit in zip(_offsets(len(units)), units, strict=True):
            present = [
                (i, by_group[unit, operation, r]) for i, r in enumerate(ranges) if (unit, operation, r) in by_group
            ]
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


def _solved_values(records: list[CriterionVerdict], field: str, unit: str, operation: str) -> np.ndarray:
    """``field`` of the solved runs of one unit and operation, finite values only."""
    values = np.array(
        [
            getattr(record, field)
            for record in records
            if record.unit == unit
            and record.operation == operation
            and record.solved
            and getattr(record, field) is not None
        ],
        dtype=float,
    )
    return values[np.isfinite(values)]


def solved_at_figure(records: Iterable[CriterionVerdict], criterion: str = "raw") -> Figure:
    """First solving step of solved runs: one panel per operation, a box and strip per unit.

    ``records`` is the long table of verdicts (``verdicts.verdicts``); those of ``criterion`` are drawn.
    """
    records = _of_criterion(records, criterion)
    units = ordered(record.unit for record in records)
    operations = ordered((record.operation for record in records), OPERATION_ORDER)
    figure, axes = _panels(len(operations))
    if not records:
        return _empty(figure, f"solved at ({criterion})")
    for ax, operation in zip(axes, operations, strict=True):
        _strip(ax, [_solved_values(records, "solved_at", unit, operation) for unit in units], units)
        ax.set_title(operation)
        ax.grid(True, axis="y", alpha=0.4)
    axes[0].set_ylabel("solved at (step)")
    figure.suptitle(f"first solving step of solved runs, criterion {criterion}")
    return figure


def sparsity_figure(records: Iterable[CriterionVerdict], table: list[dict], criterion: str = "raw") -> Figure:
    """Sparsity error of solved runs: one panel per operation, a box and strip per unit, mean with beta-fit interval.

    ``records`` is the long table of verdicts, whose ``criterion`` records give the strips; ``table`` is
    ``success_table(..., by=("unit", "operation"), criterion=criterion)``, whose sparsity_mean, sparsity_low
    and sparsity_high give the red marker and its interval.
    """
    records = _of_criterion(records, criterion)
    units = ordered(record.unit for record in records)
    operations = ordered((record.operation for record in records), OPERATION_ORDER)
    figure, axes = _panels(len(operations))
    if not records:
        return _empty(figure, f"sparsity error ({criterion})")
    by_group = {(e["unit"], e["operation"]): e for e in table}
    for ax, operation in zip(axes, operations, strict=True):
        _strip(ax, [_solved_values(records, "sparsity_error", unit, operation) for unit in units], units)
        for i, unit in enumerate(units):
            entry = by_group.get((unit, operation))
            if entry is not None and np.isfinite(entry["sparsity_low"]):
                mean = entry["sparsity_mean"]
                error = [[mean - entry["sparsity_low"]], [entry["sparsity_high"] - mean]]
                ax.errorbar([i + 0.3], [mean], yerr=error, fmt="D", color="C3", capsize=3, markersize=4)
        ax.set_title(operation)
        ax.grid(True, axis="y", alpha=0.4)
    axes[0].set_ylabel("sparsity error at the best step")
    figure.suptitle(f"sparsity error of solved runs (red: mean, 95% beta-fit interval), criterion {criterion}")
    return figure


@dataclass(frozen=True)
class CriterionStatistics:
    """What the figures of one criterion draw: the long table and the success tables computed from it."""

    criterion: str
    records: list[CriterionVerdict]
    by_operation: list[dict]
    by_range: list[dict]

    @classmethod
    def compute(cls, records: list[CriterionVerdict], criterion: str) -> CriterionStatistics:
        return cls(
            criterion,
            records,
            success_table(records, ("unit", "operation"), criterion),
            success_table(records, ("unit", "operation", "range_name"), criterion),
        )


#: The report's figures: name -> how to draw it from one criterion's statistics.
FIGURES: dict[str, Callable[[CriterionStatistics], Figure]] = {
    "success": lambda statistics: success_figure(statistics.by_operation, statistics.criterion),
    "success_by_range": lambda statistics: success_by_range_figure(statistics.by_range, statistics.criterion),
    "solved_at": lambda statistics: solved_at_figure(statistics.records, statistics.criterion),
    "sparsity": lambda statistics: sparsity_figure(statistics.records, statistics.by_operation, statistics.criterion),
}


def write_report(rows: Iterable[RunRow], directory: str | Path, criteria: Sequence[str] = CRITERIA) -> list[Path]:
    """Write summary.md and, per criterion, ``<figure>_<criterion>.png``; return the paths written.

    Runs of one unit and operation with other settings are other lines (``summary.line_rows``).

    The statistics are computed once per criterion (from the long table of
    verdicts), then drawn. All files are written or none (``files.write_all``):
    a failure leaves the previous report, never a partial one.
    """
    rows = line_rows(rows)
    directory = prepare_directory(Path(directory), "report directory")
    records = verdicts(rows)
    statistics = {criterion: CriterionStatistics.compute(records, criterion) for criterion in criteria}

    def figure_writer(draw, criterion):
        return lambda path: draw(statistics[criterion]).savefig(path, dpi=80, format="png")

    files = [(directory / "summary.md", text_writer(markdown_summary(rows, criteria)))]
    files += [
        (directory / f"{name}_{criterion}.png", figure_writer(draw, criterion))
        for criterion in criteria
        for name, draw in FIGURES.items()
    ]
    return write_all(files)


def solved_at_curves_figure(curves: list[dict], title: str) -> Figure:
    """Fraction of runs solved against training step: one panel per operation, one line per unit and settings.

    ``curves`` holds dicts with ``unit``, ``operation``, ``label`` (the line's
    name) and ``steps``, ``fraction`` (``stats.solved_fraction_curve``: the
    fraction of the line's runs solved at or before each step; it ends at the
    success rate).
    """
    operations = ordered((curve["operation"] for curve in curves), OPERATION_ORDER)
    figure, axes = _panels(len(operations), height=4.8)
    if not curves:
        return _empty(figure, title)
    for ax, operation in zip(axes, operations, strict=True):
        for curve in curves:
            if curve["operation"] == operation:
                ax.step(curve["steps"], 100 * np.asarray(curve["fraction"]), where="post", label=curve["label"])
        ax.set_ylim(-3, 103)
        ax.set_xlim(left=0)
        ax.set_xlabel("training step")
        ax.set_title(operation)
        ax.grid(True, alpha=0.4)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize="small")
    axes[0].set_ylabel("runs solved (%)")
    figure.suptitle(title)
    return figure
