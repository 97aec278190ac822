"""``arithnet predict``: a saved law on new rows, as CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from arithnet.cli.shared import fail

LawFile = Annotated[
    Path, typer.Argument(metavar="LAW.json", help="A law.json written by arithnet fit.", show_default=False)
]
New = Annotated[
    Path,
    typer.Argument(
        metavar="NEW.csv",
        help="Rows to predict (CSV, or Parquet with pyarrow) with the law's columns.",
        show_default=False,
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="Write the CSV to FILE, replaced whole \\[default: standard output]."),
]


def command(
    law_file: LawFile,
    new: New,
    output: Output = None,
    column: Annotated[str, typer.Option(metavar="NAME", help="Name of the prediction column.")] = "prediction",
) -> None:
    """Predict with a saved law: CSV of the law's input columns found in NEW and the prediction."""
    from arithnet.files import prepare_file, write_text
    from arithnet.laws import load_law
    from arithnet.laws.outputs import csv_text, predictions
    from arithnet.tables import read_frame

    try:
        law = load_law(law_file)
        frame = read_frame(new)
        if output is not None:
            prepare_file(output)  # refused before the law is evaluated
        text = csv_text(predictions(law, frame, str(new), column))
        if output is not None:
            write_text(output, text)
    except ValueError as error:
        fail(str(error))
    if output is None:
        sys.stdout.write(text)
