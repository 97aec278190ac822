"""``arithnet fit``: search a table for the exact law that gives one column from the others."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn
from rich.table import Table

from arithnet.cli.shared import AsJson, console, fail, progress, wrote

Data = Annotated[
    Path,
    typer.Argument(metavar="DATA", help="The table: CSV, or Parquet (.parquet, .pq) with pyarrow.", show_default=False),
]
Target = Annotated[str, typer.Option(metavar="COLUMN", help="The column the law gives.", show_default=False)]
Columns = Annotated[
    str | None,
    typer.Option(metavar="A,B,C", help="Input columns, comma-separated \\[default: every other column]."),
]
Out = Annotated[Path, typer.Option(metavar="DIR", help="Directory for law.json and law.png; other files in it stay.")]
Seed = Annotated[
    int | None, typer.Option(metavar="N", help="Seed of the search's starts and held-out rows \\[default: 0].")
]
TimeBudget = Annotated[
    float | None,
    typer.Option(
        metavar="SECONDS",
        help="A cap on the whole search; a search it cuts short says so \\[default: 60].",
    ),
]


def command(
    data: Data,
    target: Target,
    columns: Columns = None,
    out: Out = Path("runs/law"),
    as_json: AsJson = False,
    seed: Seed = None,
    time_budget: TimeBudget = None,
    figure: Annotated[bool, typer.Option("--figure/--no-figure", help="Write law.png, or not.")] = True,
    screen: Annotated[
        bool | None,
        typer.Option(
            "--screen/--no-screen",
            help="Leave out of a table of over 10 input columns those unrelated to the target \\[default: screen].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Find the exact law that gives the --target column of DATA from the other columns."""
    from arithnet.files import strict_json
    from arithnet.laws.outputs import prepare_law_output, save_law, summary_content

    try:
        table, in_file, config = _checked_input(data, target, columns, seed, time_budget, screen)
        prepare_law_output(out)  # refused before the search, which takes seconds to minutes
        fit = _search(table, config, quiet=as_json)
        written = save_law(fit, table, out, in_file, figure)
    except ValueError as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(strict_json(summary_content(fit, written)) + "\n")
        return
    _print_report(fit, written)


def _checked_input(data: Path, target: str, columns: str | None, seed, time_budget, screen: bool | None):
    """(checked table, every column of the file, FitConfig): every refusal before anything is written."""
    from arithnet.laws.config import FitConfig, check_rows, check_size
    from arithnet.tables import file_shape, read_frame, table_from_frame

    # Options not given are left to FitConfig, so the command's defaults are the library's.
    given = {"seed": seed, "time_budget": time_budget, "screen_columns": screen}
    config = FitConfig(**{name: value for name, value in given.items() if value is not None})
    n_rows, n_columns = file_shape(data)  # a table too large is refused before it is read
    check_size(n_rows, len(columns.split(",")) if columns is not None else max(n_columns - 1, 0), str(data))
    frame = read_frame(data)
    table = table_from_frame(frame, target, columns.split(",") if columns is not None else None, str(data))
    check_rows(table, config)
    return table, list(frame.columns), config


def _search(table, config, quiet: bool):
    """``fit_law`` with a progress bar on stderr: the fraction done and the stage running."""
    from arithnet.laws import fit_law

    shown = TextColumn("law search: {task.description}"), TextColumn("{task.percentage:>3.0f}%")
    with progress(*shown, total=1.0, disable=quiet) as update:
        update(0.0, description="starting")
        return fit_law(table, config, progress=lambda fraction, what: update(fraction, description=what))


def _percent(value: float | None) -> str:
    import math

    return f"{100 * value:.2g}%" if value is not None and math.isfinite(value) else "an unbounded error"


def _verification_line(fit) -> str:
    from arithnet.laws.verdict import Verdict

    if fit.verification == Verdict.EXACT:
        return "exact on the held-out rows"
    if fit.verification == Verdict.NOISE:
        return f"verified to the noise level, about {_percent(fit.noise_level)} relative noise"
    if fit.verification == Verdict.AMBIGUOUS:
        reasons = []
        if fit.competitors:
            reasons.append(
                f"so do {len(fit.competitors)} law(s) of another structure that predict differently outside the data"
            )
        if fit.undecided:
            reasons.append(f"{len(fit.undecided)} constant(s) could as well be other exact numbers")
        if fit.powers:
            reasons.append(f"{len(fit.powers)} power(s) of a sum fit better moved by ½")
        return f"ambiguous: fits to the noise level (about {_percent(fit.noise_level)}), but " + "; and ".join(reasons)
    return f"not verified: the best candidate misses the held-out rows by {_percent(fit.chosen.error)} (relative RMS)"


def _print_report(fit, written: list[Path]) -> None:
    from rich.markup import escape

    from arithnet.laws.verdict import Verdict

    console.print(f"law: [bold]{escape(str(fit.law))}[/]", soft_wrap=True)
    console.print(f"LaTeX: {escape(fit.law.latex())}", soft_wrap=True, highlight=False)
    colour = {Verdict.EXACT: "green", Verdict.NOISE: "yellow"}.get(fit.verification, "red")
    console.print(f"verification: [{colour}]{escape(_verification_line(fit))}[/]", soft_wrap=True)
    console.print(f"found by: the {escape(fit.chosen.stage)} stage ({escape(fit.chosen.template)})", soft_wrap=True)
    for reading in fit.chosen.constants:
        console.print(f"constant: {escape(_constant_line(reading.row()))}", soft_wrap=True, highlight=False)
    for competitor in fit.competitors:
        console.print(f"also fits: {escape(_competitor_line(competitor.row()))}", soft_wrap=True, highlight=False)
    for note in fit.notes:
        console.print(f"note: {escape(note)}", soft_wrap=True)
    console.print(f"relative RMS error over all rows: {fit.error_in_range:.2e}")
    _print_candidates(fit)
    console.print(f"time: {fit.seconds:.2f} s")
    wrote(written)


def _constant_line(row: dict) -> str:
    low, high = row["interval_95"]
    fitted = f"fitted {row['fitted']:.6g} ± {row['standard_error']:.2g} (95%: [{low:.6g}, {high:.6g}])"
    if "snapped_within" in row:
        low, high = row["snapped_within"]
        return f"{row['value']}, snapped within [{low:.6g}, {high:.6g}]; {fitted}"
    return f"{row['value']}, a float; {fitted}"


def _competitor_line(row: dict) -> str:
    def share(value):
        return f"{100 * value:.3g}%" if value is not None else "undefined"

    return (
        f"{row['law']} ({row['stage']}); it differs from the law by {share(row['difference_at_3x'])} with every "
        f"input ×3 and by {share(row['difference_at_one_third'])} with every input ×1/3"
    )


def _print_candidates(fit) -> None:
    from rich.markup import escape

    table = Table(title="candidates (Pareto front, simplest first)", title_justify="left", caption="→ the chosen law")
    for column in ("", "complexity", "held-out error", "verified", "law", "stage"):
        table.add_column(column, overflow="fold")  # a law is never cut short with "…"
    for candidate in fit.candidates:
        row = candidate.row()
        error = f"{row['error']:.2e}" if row["error"] is not None else "inf"
        mark = "→" if candidate is fit.chosen else ""
        table.add_row(mark, str(row["complexity"]), error, row["verified"], escape(row["law"]), escape(row["stage"]))
    console.print(table)
