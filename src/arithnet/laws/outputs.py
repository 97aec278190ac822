"""What the law commands write: law.json and law.png of a fit, and a CSV of predictions.

Every file is written whole or not at all (``arithnet.files``): under a
temporary name in its own directory, then renamed over its final name, so a
failure or a kill leaves the old file or the new one, never half of one.
Unlike a training run's directory, a law's directory may hold other files:
only law.json and law.png are replaced. Directories are created only when the
files are written, and removed again if writing fails. This module imports
no torch: the command checks its output directory before the search starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from arithnet.files import Writer, finite_or_none, prepare_files, strict_json, text_writer, write_files
from arithnet.tables import Table, input_matrix

if TYPE_CHECKING:  # the search's modules import torch
    from arithnet.laws.fit import LawFit
    from arithnet.laws.law import Law

__all__ = ["LAW_NAMES", "csv_text", "law_content", "predictions", "prepare_law_output", "save_law", "summary_content"]

#: The files of a law's output directory.
LAW_NAMES = ("law.json", "law.png")


def law_content(fit: LawFit, columns: Sequence[str], data: str) -> dict[str, Any]:
    """law.json's object: ``LawFit.to_dict()``, every column of the data file, and its path; strict JSON."""
    # "law" is the printed law and "tree" the law itself, which is all that load_law reads.
    return finite_or_none({**fit.to_dict(), **fit.law.to_dict(), "columns": list(columns), "data": data})


def summary_content(fit: LawFit, written: Sequence[Path]) -> dict[str, Any]:
    """``arithnet fit --json``'s object: ``LawFit.summary()`` and the files written; strict JSON."""
    return finite_or_none({**fit.summary(), "files": [str(path) for path in written]})


def prepare_law_output(directory: str | Path) -> Path:
    """Check, before the search, that law.json and law.png can be written in ``directory``; create nothing.

    One-line ValueError for a path that is not a directory, a law.json or law.png
    there that is a directory, and a place that cannot be written or created.
    """
    return prepare_files(directory, LAW_NAMES)


def save_law(
    fit: LawFit, table: Table, directory: str | Path, columns: Sequence[str], figure: bool = True
) -> list[Path]:
    """Write law.json and (with ``figure``) law.png of all rows into ``directory``: both or neither.

    law.json is ``law_content(fit, columns, table.source)``. Without ``figure``,
    a law.png of an earlier fit there is removed, since it would not show this
    law. Returns the paths written; an OSError becomes a one-line ValueError.
    """
    directory = prepare_law_output(directory)
    text = strict_json(law_content(fit, columns, table.source), indent=2) + "\n"
    files: list[tuple[Path, Writer]] = [(directory / "law.json", text_writer(text))]
    if figure:
        files.append((directory / "law.png", lambda path: _save_figure(fit.law, table, path)))
    written = write_files(directory, files, f"output directory {str(directory)!r}")
    if not figure:
        # law.json is in place by now: a figure that cannot be removed is not worth failing the fit for.
        with contextlib.suppress(OSError):
            (directory / "law.png").unlink(missing_ok=True)
    return written


def _save_figure(law: Law, table: Table, path: Path) -> None:
    import matplotlib.pyplot as plt

    from arithnet.plots import law_figure

    figure = law_figure(table.y, law.predict(table.x), str(law))
    try:
        figure.savefig(path, dpi=80, format="png")
    finally:
        plt.close(figure)


def predictions(law: Law, frame: pd.DataFrame, source: str, column: str = "prediction") -> pd.DataFrame:
    """The law's input columns present in ``frame`` (law order) and its prediction in ``column``.

    The columns the law uses must be present and numeric (``input_matrix``'s
    one-line ValueErrors name ``source``); they come out as the float64 values
    the law was given. Other input columns of the law are copied as they are.
    """
    column = column.strip()
    if not column:
        raise ValueError("the prediction column needs a name")
    if column in law.inputs:
        raise ValueError(f"prediction column {column!r} is an input column of the law; choose another name")
    used = law.used()
    values = input_matrix(frame, used, source)
    frame = frame.set_axis([str(name).strip() for name in frame.columns], axis=1).reset_index(drop=True)
    # predict takes every input of the law; those it does not use change nothing, so zeros stand in.
    x = np.zeros((len(frame), len(law.inputs)))
    for index, name in enumerate(used):
        x[:, law.inputs.index(name)] = values[:, index]
    result = pd.DataFrame(index=frame.index)
    for name in law.inputs:
        if name in used:
            result[name] = values[:, used.index(name)]
        elif name in frame.columns:
            result[name] = frame[name]
    result[column] = law.predict(x)
    return result


def csv_text(frame: pd.DataFrame) -> str:
    """CSV with every float as its repr (read back to the same bits) and NaN written as ``nan``."""
    return frame.to_csv(index=False, float_format=None, na_rep="nan", lineterminator="\n")
