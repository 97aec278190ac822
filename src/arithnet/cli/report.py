"""``arithnet report``: one of the field's tables from a results store, next to the published numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arithnet.cli.shared import console, fail, wrote


def command(
    table: Annotated[
        str, typer.Argument(metavar="TABLE", help="The table: primer, division or iclr.", show_default=False)
    ],
    store: Annotated[
        Path, typer.Option(metavar="PATH", help="The results store that arithnet bench wrote.", show_default=False)
    ],
    write: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Replace the lines between <!-- report:TABLE --> and <!-- /report:TABLE --> in FILE with the table.",
        ),
    ] = None,
    figures: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Write solved_at_TABLE.png (runs solved against step) into DIR.")
    ] = None,
) -> None:
    """Print one of the field's tables from the results store, next to the published numbers."""
    from arithnet.bench.report import build_report, replaced_file, write_figures
    from arithnet.files import write_text

    try:
        report = build_report(table, store)
        # The file and its markers are checked before anything is written.
        new_text = replaced_file(write, report.spec.name, report.markdown()) if write is not None else None
        written = write_figures(report, figures) if figures is not None else []
        if write is not None:
            written.append(write_text(write, new_text, "file"))
    except ValueError as error:
        fail(str(error))
    _print_table(report)
    if written:
        wrote(written)


def _print_table(report) -> None:
    from rich.markup import escape

    from arithnet.bench.report import table_cells

    header, body = table_cells(report.spec, report.table)
    table = Table(title=f"{report.spec.name}: {report.spec.title}", title_justify="left")
    for column in header:
        table.add_column(escape(column))
    for cells in body:
        table.add_row(*(escape(cell.replace("**", "")) for cell in cells))
    console.print(table)
