"""The field's tables generated from the results store, next to the published numbers.

``arithnet report TABLE --store PATH`` builds one of ``TABLES`` (the Primer's
input-2 task, the division paper's input-10 ÷ grid, the ICLR 2020 100-input
task) from the runs in a store. The long table comes first: one dict per
(unit, operation, settings) with the runs, the success rate under the paper's
criterion with its 95% Wilson interval, exact-formula success, the median
solved-at step, and the published rate with its interval (bench.report.published).
The markdown and the terminal table are rendered from it; numbers come from
stats.py, drawing from figures.py.

**Which rows.** A row belongs to table T when its run is one of T's
protocol (task, input size, an operation and a range of T's grid, read from
its stored configuration) and its configuration's ``preset`` is T or none: a
row made with another paper's preset never belongs (a preset spans input
sizes, so it alone does not decide either), and rows made before presets
existed, or by a bench without one, count by their settings. Rows of one
unit and operation whose settings differ (steps, unit options, loss, preset,
…) are separate lines, never pooled.

**agrees.** "yes" when our rate lies inside the published 95% interval (the
issue's rule: "every reproduced row inside its published 95% interval").
Both rates are samples, so the table also gives the p-value of Fisher's
exact test (scipy) of "our runs and the paper's have one success rate"
where the paper's runs are known: a "no" with p above 0.05 is a difference
the two samples cannot tell from chance. A "no" is a bug to find or a
documented difference.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import fisher_exact

from arithnet.bench.protocol import GRIDS, RunRow, preset_settings
from arithnet.bench.protocol.verdicts import verdicts
from arithnet.bench.report.published import published
from arithnet.bench.report.stats import solved_fraction_curve, success_table
from arithnet.bench.report.summary import MISSING, OPERATION_ORDER, format_rate, ordered, settings

NOT_PUBLISHED = "not published here"


@dataclass(frozen=True)
class TableSpec:
    """One of the field's tables: its protocol, the paper's success criterion and its training steps."""

    name: str
    title: str
    criterion: str
    task: str
    input_size: int
    operations: tuple[str, ...]
    ranges: tuple[str, ...]
    paper_steps: int


_PRIMER_RANGES = tuple(GRIDS["primer"])
TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "primer",
            "the Primer's single-module task, input 2, ranges 1–9, 25 seeds (Mistry et al., JMLR 2022)",
            "primer",
            "primer",
            2,
            OPERATION_ORDER,
            _PRIMER_RANGES,
            50_000,
        ),
        TableSpec(
            "division",
            "the division paper's input-10 ÷ grid, ranges 1–9, 25 seeds (Mistry et al., 2022)",
            "raw",
            "primer",
            10,
            ("div",),
            _PRIMER_RANGES,
            100_000,
        ),
        TableSpec(
            "iclr",
            "the ICLR 2020 arithmetic task, 100 inputs, two layers (Madsen & Johansen)",
            "iclr",
            "iclr",
            100,
            OPERATION_ORDER,
            tuple(GRIDS["iclr"]),
            5_000_000,
        ),
    )
}

#: Criterion names as the tables print them.
CRITERION_NAMES = {"raw": "raw MSE < 1e-5", "iclr": "ICLR ε-perfect", "primer": "Primer ε-perfect"}


def get_table(name: str) -> TableSpec:
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; valid tables: {', '.join(TABLES)}")
    return TABLES[name]


def belongs(spec: TableSpec, row: RunRow) -> bool:
    """Whether ``row`` is a run of table ``spec`` (see the module's docstring, "Which rows")."""
    config = json.loads(row.config)
    return (
        config.get("preset") in (None, spec.name)
        and config.get("task") == spec.task
        and config.get("input_size") == spec.input_size
        and row.operation in spec.operations
        and row.range_name in spec.ranges
    )


def _preset_options(config: dict) -> dict:
    """The unit options the run's preset gives it (none without a preset, or where it no longer covers the run)."""
    if not config.get("preset"):
        return {}
    try:
        names = (config["preset"], config["unit"], config["task"], config["input_size"], config["operation"])
        return dict(preset_settings(*names)["unit_options"])
    except (KeyError, ValueError):
        return {}


def settings_label(config: dict) -> str:
    """The run's preset and what differs from it or the units' defaults, briefly: options, loss, schedule, force.

    A preset's own options are left out (``arithnet bench --show-preset`` lists them): the label
    names only what the command changed.
    """
    parts = [f"preset {config['preset']}"] if config.get("preset") else []
    from_preset = _preset_options(config)
    parts += [
        f"{name}={value!r}"
        for name, value in config.get("unit_options") or ()
        if name not in from_preset or from_preset[name] != value
    ]
    usual_values = {"loss": "mse", "lr_schedule": "constant", "dtype": "float32", "threshold_subsets": "task"}
    if config.get("preset"):  # the preset chose the thresholds' subsets
        usual_values.pop("threshold_subsets")
    for name, usual in usual_values.items():
        if config.get(name, usual) != usual:
            parts.append(f"{name} {config[name]}")
    if config.get("force"):
        parts.append("forced")
    return ", ".join(parts) or "unit defaults"


def _lines(rows: list[RunRow]) -> dict[tuple, list[RunRow]]:
    """Rows grouped by unit, operation and settings, in the report's order."""
    groups: dict[tuple, list[RunRow]] = {}
    for row in rows:
        key = json.dumps(settings(row), sort_keys=True, default=str)
        groups.setdefault((row.unit, row.operation, key), []).append(row)
    units = ordered(unit for unit, _, _ in groups)
    operations = ordered((operation for _, operation, _ in groups), OPERATION_ORDER)
    order = sorted(groups, key=lambda k: (operations.index(k[1]), units.index(k[0]), groups[k][0].steps, k[2]))
    return {key: groups[key] for key in order}


def _labels(keys: Iterable[tuple]) -> dict[tuple, str]:
    """Each line's settings label; lines of one unit, operation and steps that read alike get a settings digest."""
    keys = list(keys)
    configs = {key: {**json.loads(key[2]), "unit": key[0], "operation": key[1]} for key in keys}
    reads = {key: (*key[:2], settings_label(configs[key]), configs[key].get("steps")) for key in keys}
    labels = {}
    for key in keys:
        twins = sum(reads[other] == reads[key] for other in keys) > 1
        digest = f" #{hashlib.sha256(key[2].encode()).hexdigest()[:6]}" if twins else ""
        labels[key] = reads[key][2] + digest
    return labels


def two_sample_p(successes: int, n_runs: int, published_rate: float, published_runs: int) -> float:
    """Fisher's exact test (two-sided) of our successes against the published rate's, both of known runs."""
    theirs = round(published_rate * published_runs)
    table = [[successes, n_runs - successes], [theirs, published_runs - theirs]]
    return float(fisher_exact(table).pvalue)


def _published_fields(spec: TableSpec, unit: str, operation: str, successes: int, n_runs: int) -> dict:
    entry = published(spec.name, unit, operation)
    if entry is None:
        names = ("rate", "low", "high", "interval", "runs", "solved_at_median", "source", "criterion")
        return {f"published_{name}": None for name in names} | {"agrees": None, "p_value": None}
    return {
        "published_rate": entry.rate,
        "published_low": entry.low,
        "published_high": entry.high,
        "published_interval": entry.interval,
        "published_runs": entry.n_runs,
        "published_solved_at_median": entry.solved_at_median,
        "published_source": entry.source,
        "published_criterion": entry.criterion,
        # None where the table's criterion judges none of our runs (bench.protocol.verdicts.applies)
        "agrees": bool(entry.low <= successes / n_runs <= entry.high) if n_runs else None,
        "p_value": two_sample_p(successes, n_runs, entry.rate, entry.n_runs) if n_runs else None,
    }


def long_table(spec: TableSpec, rows: Iterable[RunRow]) -> list[dict]:
    """One dict per (unit, operation, settings) line of table ``spec``, from the rows that belong to it.

    Keys: table, unit, operation, settings (label), steps, runs, ranges, seeds,
    criterion, successes, rate, low, high (95% Wilson), exact_successes,
    exact_rate, exact_low, exact_high, solved_at_median (solved runs, the
    criterion's first solving step), published_rate, published_low,
    published_high, published_interval ("paper" or "wilson"), published_runs,
    published_solved_at_median, published_source, published_criterion (None
    where nothing is published), agrees and p_value (None where nothing is
    published, or where the criterion judges none of the line's runs: rate NaN).
    """
    groups = _lines([row for row in rows if belongs(spec, row)])
    labels = _labels(groups)
    table = []
    for key, members in groups.items():
        unit, operation, _ = key
        (stats,) = success_table(verdicts(members), ("unit", "operation"), spec.criterion)
        table.append(
            {"table": spec.name, "unit": unit, "operation": operation, "settings": labels[key]}
            | {"steps": members[0].steps, "runs": len(members), "ranges": len({row.range_name for row in members})}
            | {"seeds": len({row.seed for row in members}), "criterion": spec.criterion}
            | {name: stats[name] for name in ("successes", "rate", "low", "high")}
            | {name: stats[name] for name in ("exact_successes", "exact_rate", "exact_low", "exact_high")}
            | {"solved_at_median": stats["solved_at_median"]}
            | _published_fields(spec, unit, operation, stats["successes"], stats["n"])
        )
    return table


def solved_curves(spec: TableSpec, rows: Iterable[RunRow]) -> list[dict]:
    """Per line of the table: the fraction of its runs solved (under the table's criterion) against step."""
    groups = _lines([row for row in rows if belongs(spec, row)])
    labels = _labels(groups)
    curves = []
    for key, members in groups.items():
        records = [v for v in verdicts(members) if v.criterion == spec.criterion and v.solved]
        steps = [v.solved_at for v in records if v.solved_at is not None]
        points, fraction = solved_fraction_curve(steps, len(members), members[0].steps)
        label = f"{key[0]} ({labels[key]})" if labels[key] != "unit defaults" else key[0]
        curves.append({"unit": key[0], "operation": key[1], "label": label, "steps": points, "fraction": fraction})
    return curves


# -- rendering -------------------------------------------------------------------------------------------


def _count(value: float | None) -> str:
    return MISSING if value is None or value != value else f"{value:,.0f}"


def _published_cell(entry: dict) -> str:
    if entry["published_rate"] is None:
        return NOT_PUBLISHED
    cell = format_rate(entry["published_rate"], entry["published_low"], entry["published_high"])
    return cell + ("†" if entry["published_interval"] == "wilson" else "")


def table_cells(spec: TableSpec, table: list[dict]) -> tuple[list[str], list[list[str]]]:
    """(header, body) of the table as text, for markdown and the terminal alike."""
    with_solved_at = any(entry["published_solved_at_median"] is not None for entry in table)
    header = ["unit", "operation", "settings", "steps", "runs", f"{CRITERION_NAMES[spec.criterion]} [95%]"]
    header += ["exact formula", "solved at (median)"]
    header += ["published solved at"] if with_solved_at else []
    header += ["published [95%]", "agrees", "p (Fisher)"]
    body = []
    for entry in table:
        cells = [entry["unit"], entry["operation"], entry["settings"], f"{entry['steps']:,}", str(entry["runs"])]
        cells += [format_rate(entry["rate"], entry["low"], entry["high"])]
        cells += [format_rate(entry["exact_rate"], entry["exact_low"], entry["exact_high"])]
        cells += [_count(entry["solved_at_median"])]
        cells += [_count(entry["published_solved_at_median"])] if with_solved_at else []
        agrees = {True: "yes", False: "**no**", None: MISSING}[entry["agrees"]]
        p_value = MISSING if entry["p_value"] is None else f"{entry['p_value']:.2g}"
        cells += [_published_cell(entry), agrees, p_value]
        body.append(cells)
    return header, body


def markdown(spec: TableSpec, table: list[dict], command: str) -> str:
    """The table as markdown, with the command that generated it, its criterion and the published sources."""
    n_runs = sum(entry["runs"] for entry in table)
    lines = [
        f"Generated by `{command}` from {n_runs} runs: {spec.title}. Success under the "
        f"{CRITERION_NAMES[spec.criterion]} criterion ({spec.criterion}) with its 95% Wilson interval; "
        f'the paper trained {spec.paper_steps:,} steps per run ("steps" is ours). "agrees": our rate lies '
        "inside the published interval; p: Fisher's exact test of one rate for both samples. † marks "
        "a published interval computed here as the 95% Wilson interval of the published rate and runs.",
        "",
    ]
    header, body = table_cells(spec, table)
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    sources = sorted({(e["published_source"], e["published_criterion"]) for e in table if e["published_source"]})
    lines += [""] + [f"Published: {source}; criterion {criterion}." for source, criterion in sources]
    return "\n".join(lines).rstrip("\n") + "\n"


# -- the report of a store, and where it is written ----------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One table built from one store: its spec, its long table and its rows."""

    spec: TableSpec
    store: Path
    table: list[dict]
    rows: list[RunRow]

    def command(self) -> str:
        return f"arithnet report {self.spec.name} --store {self.store}"

    def markdown(self) -> str:
        return markdown(self.spec, self.table, self.command())

    def curves(self) -> list[dict]:
        return solved_curves(self.spec, self.rows)


def build_report(name: str, store_path: str | os.PathLike) -> Report:
    """Table ``name`` from the store at ``store_path``; a one-line ValueError for a bad name, store or no rows."""
    from arithnet.bench.run import ResultsStore

    spec = get_table(name)
    path = Path(store_path)
    if not path.is_file():
        raise ValueError(f"results store {str(path)!r} does not exist: run arithnet bench first")
    with ResultsStore(path) as store:
        rows = [row for row in store.rows() if belongs(spec, row)]
    if not rows:
        raise ValueError(f"results store {str(path)!r} has no runs of table {name} ({spec.title})")
    return Report(spec, path, long_table(spec, rows), rows)


def markers(name: str) -> tuple[str, str]:
    """The comment lines that open and close table ``name``'s block in a markdown file."""
    return f"<!-- report:{name} -->", f"<!-- /report:{name} -->"


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the lines between table ``name``'s markers replaced by ``content``; ValueError if unmarked."""
    start, end = markers(name)
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"need exactly one {start} and one {end} line to replace table {name}'s block")
    head, rest = text.split(start, 1)
    if end not in rest:
        raise ValueError(f"{end} comes before {start}: table {name}'s block must open first")
    old, tail = rest.split(end, 1)
    if "\n" not in old:
        raise ValueError(f"{start} and {end} must be on lines of their own, {start} first")
    return f"{head}{start}\n{content.rstrip()}\n{end}{tail}"


def replaced_file(path: str | os.PathLike, name: str, content: str) -> str:
    """The text of the file at ``path`` with table ``name``'s block replaced; ValueError if it cannot be."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read {str(path)!r}: {getattr(error, 'strerror', None) or error}") from None
    return replace_block(text, name, content)


def write_figures(report: Report, directory: str | os.PathLike) -> list[Path]:
    """Write ``solved_at_<table>.png`` (fraction of runs solved against step) into ``directory``."""
    from arithnet.bench.report.figures import solved_at_curves_figure
    from arithnet.files import prepare_directory, write_all

    directory = prepare_directory(Path(directory), "figure directory")
    title = f"runs solved against step, {CRITERION_NAMES[report.spec.criterion]}: {report.spec.name} table"
    figure = solved_at_curves_figure(report.curves(), title)
    return write_all([(directory / f"solved_at_{report.spec.name}.png", lambda p: figure.savefig(p, format="png"))])
