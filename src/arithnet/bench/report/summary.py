"""The benchmark's results as a markdown document: tables only, numbers from stats.py over the verdicts' long table."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from arithnet.bench.protocol import CRITERIA, EXACT, CriterionVerdict, RunRow
from arithnet.bench.protocol.verdicts import verdicts
from arithnet.bench.report.stats import success_table

#: The field's order of the operations; any other operation follows, sorted.
OPERATION_ORDER = ("add", "sub", "mul", "div")

#: One line per success criterion (nalm.md, "Benchmark protocols").
CRITERION_TITLES = {
    "raw": "raw: test MSE < 1e-5 (division paper)",
    "iclr": "iclr: test MSE below an ε-perfect solution's, ε = 1e-5 (Madsen & Johansen, ICLR 2020)",
    "primer": "primer: test MSE below an ε-perfect solution's, ε = 1e-4 (Mistry et al., Primer)",
}

MISSING = "–"

#: Configuration fields that do not set a line apart: the line's own names, the run's place in the grid, how it ran.
NOT_SETTINGS = ("unit", "operation", "range_name", "device", "compile")


def line_rows(rows: Iterable[RunRow]) -> list[RunRow]:
    """``rows`` with each unit named by its settings where one unit and operation ran with several.

    A store may hold NAU on add run with 200 steps and with 50,000: pooled,
    their success rate would describe neither, so each gets its own line,
    ``NAU (steps 200)`` and ``NAU (steps 50000)``, named by the settings that
    differ between them. A unit and operation run with one set of settings
    keeps its name.
    """
    rows = list(rows)
    texts = [json.dumps(settings(row), sort_keys=True, default=str) for row in rows]
    variants: dict[tuple, set[str]] = {}
    for row, text in zip(rows, texts, strict=True):
        variants.setdefault((row.unit, row.operation), set()).add(text)
    labels = {(*line, text): _label(text, of) for line, of in variants.items() if len(of) > 1 for text in of}
    keyed = [((row.unit, row.operation, text), row) for row, text in zip(rows, texts, strict=True)]
    return [replace(row, unit=f"{row.unit} ({labels[key]})") if key in labels else row for key, row in keyed]


def settings(row: RunRow) -> dict:
    """The row's configuration but for what does not make a line (``NOT_SETTINGS``)."""
    return {name: value for name, value in json.loads(row.config).items() if name not in NOT_SETTINGS}


def _label(text: str, variants: Iterable[str]) -> str:
    """What tells the settings ``text`` (JSON) apart from the other ``variants`` of its line: ``name value, …``."""
    mine, others = json.loads(text), [json.loads(other) for other in variants if other != text]
    names = sorted({name for values in [mine, *others] for name in values})
    differing = [name for name in names if any(values.get(name) != mine.get(name) for values in others)]
    return ", ".join(f"{name} {_value(mine.get(name))}" for name in differing)


def _value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def ordered(values: Iterable[str], preferred: Sequence[str] = ()) -> list[str]:
    """Distinct values, those in ``preferred`` first in its order, the rest in natural order ("r2" < "r10")."""

    def natural(value: str) -> list:
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", value)]

    distinct = set(values)
    first = [value for value in preferred if value in distinct]
    return first + sorted(distinct - set(first), key=natural)


def format_rate(rate: float, low: float, high: float) -> str:
    """``85.3% [76.7, 90.7]``: a rate and its interval in percent; a dash for no runs."""
    if math.isnan(rate):
        return MISSING
    return f"{100 * rate:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def format_estimate(value: float, low: float, high: float, spec: str) -> str:
    """``value [low, high]`` with ``spec``; without the brackets when the interval is undefined."""
    if math.isnan(value):
        return MISSING
    if math.isnan(low) or math.isnan(high):
        return format(value, spec)
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"


def _table(header: Sequence[str], body: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return [*lines, ""]


def _rate_grid(table: list[dict], row_fields: Sequence[str], column_field: str, columns: list[str]) -> list[list[str]]:
    """A pivot of ``table``: one line per distinct ``row_fields`` value, one column per ``column_field`` value."""
    cells: dict[tuple, dict[str, str]] = {}
    for entry in table:
        line = cells.setdefault(tuple(entry[name] for name in row_fields), {})
        line[entry[column_field]] = format_rate(entry["rate"], entry["low"], entry["high"])
    return [[*line, *(cells[line].get(column, MISSING) for column in columns)] for line in cells]


def _sorted_table(table: list[dict], units: list[str], operations: list[str]) -> list[dict]:
    return sorted(table, key=lambda entry: (units.index(entry["unit"]), operations.index(entry["operation"])))


def _criterion_section(records: list[CriterionVerdict], criterion: str, units, operations, ranges) -> list[str]:
    by_operation = _sorted_table(success_table(records, ("unit", "operation"), criterion), units, operations)
    by_range = _sorted_table(success_table(records, ("unit", "operation", "range_name"), criterion), units, operations)
    lines = [f"## Criterion {CRITERION_TITLES.get(criterion, criterion)}", ""]
    if not any(record.criterion == criterion for record in records):
        return [*lines, "It judges none of these runs: its threshold is undefined on their task.", ""]
    lines += ["Success rate [95% Wilson interval], per unit and operation:", ""]
    lines += _table(["unit", *operations], _rate_grid(by_operation, ["unit"], "operation", operations))
    lines += ["Success rate [95% Wilson interval], per range:", ""]
    lines += _table(["unit", "operation", *ranges], _rate_grid(by_range, ["unit", "operation"], "range_name", ranges))
    lines += [
        "Solved runs: first solving step (median; mean [95% gamma-fit interval]) and sparsity error "
        "(mean [95% beta-fit interval]); solved runs whose formula is not exact pass the MSE criterion "
        "with wrong weights:",
        "",
    ]
    header = ["unit", "operation", "runs", "solved", "solved at (median)", "solved at (mean)", "sparsity error"]
    header.append("solved, formula not exact")
    body = [
        [
            entry["unit"],
            entry["operation"],
            str(entry["n"]),
            str(entry["successes"]),
            format_estimate(entry["solved_at_median"], math.nan, math.nan, ".0f"),
            format_estimate(entry["solved_at_mean"], entry["solved_at_mean_low"], entry["solved_at_mean_high"], ".0f"),
            format_estimate(entry["sparsity_mean"], entry["sparsity_low"], entry["sparsity_high"], ".3g"),
            str(entry["solved_inexact"]),
        ]
        for entry in by_operation
        if entry["n"]  # a line the criterion judges no run of has a dash above, and no line here
    ]
    return lines + _table(header, body)


def markdown_summary(rows: Iterable[RunRow], criteria: Sequence[str] = CRITERIA) -> str:
    """The benchmark's results as markdown: for each criterion, success rates and the solved runs' statistics.

    Per criterion: success rate [95% Wilson interval] per unit × operation and
    per unit × operation × range; then per unit × operation the solved-at step
    (median; mean [gamma-fit interval]), the sparsity error (mean [beta-fit
    interval]) and the solved runs whose formula is not exact. Last, the
    exact-formula success rate (independent of the criterion). Rates read
    ``85.3% [76.7, 90.7]``; a dash marks a group without runs, a criterion that does not
    apply to its runs (bench.protocol.verdicts) or an undefined value.
    Runs of one unit and operation with other settings are other lines (``line_rows``).
    """
    rows = line_rows(rows)
    lines = ["# arithnet benchmark results", ""]
    if not rows:
        lines.append("No runs.")
        return "\n".join(lines) + "\n"
    units = ordered(row.unit for row in rows)
    operations = ordered((row.operation for row in rows), OPERATION_ORDER)
    ranges = ordered(row.range_name for row in rows)
    tasks = ordered(row.task for row in rows)
    lines += [
        f"{len(rows)} runs; units: {', '.join(units)}; operations: {', '.join(operations)}; "
        f"tasks: {', '.join(tasks)}; ranges: {', '.join(ranges)}.",
        "",
    ]
    records = verdicts(rows)
    for criterion in criteria:
        lines += _criterion_section(records, criterion, units, operations, ranges)
    exact = _sorted_table(success_table(records, ("unit", "operation"), EXACT), units, operations)
    lines += ["## Exact formula", ""]
    lines += ["Runs whose rounded weights give exactly the target formula [95% Wilson interval]:", ""]
    lines += _table(["unit", *operations], _rate_grid(exact, ["unit"], "operation", operations))
    return "\n".join(lines).rstrip("\n") + "\n"
