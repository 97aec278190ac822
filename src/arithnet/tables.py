"""Tables of numbers for law fitting: read from CSV or Parquet, or built from arrays, and checked.

A :class:`Table` holds float64 input columns ``x`` (n, I) and a target column
``y`` (n,), every value finite. Any column name works but an empty one, and two names that
read the same once Unicode is normalised (NFKC).
Everything that can be wrong with the input is reported as one ``ValueError``
whose message is a single line naming the file (``source``), the column and the
1-based data row (the header is not counted), for example
``data.csv: column 'a', row 7: 'abc' is not a number``. Only the columns in use
are checked: other columns of a file may hold anything.

CSV cells are read as text, so that a bad cell can be quoted as written, and
converted with ``pandas.to_numeric``, which reads a number written with
``repr`` back to the same float64 bits. Parquet needs pyarrow, which is
optional (``pip install 'arithnet[parquet]'``).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Cells that pandas would read as NaN; written so, a cell is "NaN" rather than "not a number".
NAN_WORDS = frozenset({"nan", "+nan", "-nan", "na", "n/a", "#n/a", "null", "none", "<na>"})
INF_WORDS = frozenset({"inf", "infinity"})
#: How many column names an error message lists before it stops.
LISTED_COLUMNS = 20
#: How much of a file is looked at for NUL bytes, which no CSV has.
SNIFF_BYTES = 65536


@dataclass(frozen=True)
class Table:
    """Checked numbers for a law fit: finite float64 inputs ``x`` (n, I) and target ``y`` (n,)."""

    names: tuple[str, ...]  # input column names, in order
    target: str  # target column name
    x: np.ndarray  # (n, I) float64, finite
    y: np.ndarray  # (n,)   float64, finite
    source: str  # the file path as given, or "<array>"


# Reading files ---------------------------------------------------------------------------------------------------


def read_frame(path: str | Path) -> pd.DataFrame:
    """The DataFrame of a CSV (``.csv``) or Parquet (``.parquet``, ``.pq``) file, column names stripped.

    CSV cells stay text (converted by :func:`read_table` or :func:`input_matrix`);
    Parquet columns keep their types. Raises a one-line ``ValueError`` if the file
    is missing, has another extension, cannot be parsed or repeats a column name.
    """
    return _read_frame(Path(path), str(path))


def file_shape(path: str | Path) -> tuple[int, int]:
    """(data rows, columns) of a CSV or Parquet file, without reading its cells: to refuse a table that is too
    large before reading it. A CSV's rows are its lines after the header; a file that cannot be read says so
    later, in :func:`read_frame`'s words, so this returns (0, 0) for it."""
    path = Path(path)
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet

            metadata = pyarrow.parquet.ParquetFile(path).metadata
            return metadata.num_rows, metadata.num_columns
        with path.open("rb") as stream:
            header = stream.readline()
            rows, last = 0, b"\n"
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                rows, last = rows + chunk.count(b"\n"), chunk[-1:]
        return rows + (last != b"\n"), header.count(b",") + 1  # a last line without its newline counts too
    except Exception:  # a file that cannot be read is refused by read_frame, with its reason
        return 0, 0


def _read_frame(path: Path, source: str) -> pd.DataFrame:
    """:func:`read_frame`, naming the file ``source`` in messages."""
    if not path.exists():
        raise ValueError(f"{source}: no such file")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise ValueError(f"{source}: not a CSV or Parquet file")
    if not path.is_file():
        raise ValueError(f"{source}: not a CSV or Parquet file (a directory)")
    frame = _read_csv(path, source) if suffix in CSV_SUFFIXES else _read_parquet(path, source)
    _check_unique([name for name in frame.columns if name], source, "column")
    return frame


def _not_readable(source: str, reason: str) -> ValueError:
    return ValueError(f"{source}: not a CSV or Parquet file ({reason})")


def _read_csv(path: Path, source: str) -> pd.DataFrame:
    """Every cell as text; the header row is read as data so that pandas does not rename repeated names."""
    with path.open("rb") as stream:
        if b"\0" in stream.read(SNIFF_BYTES):
            raise _not_readable(source, "binary data")
    try:
        cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise _not_readable(source, "empty file") from None
    except UnicodeDecodeError:
        raise _not_readable(source, "not UTF-8 text") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise _not_readable(source, _short_reason(error)) from None
    names = [str(name).strip() for name in cells.iloc[0]]
    return cells.iloc[1:].set_axis(names, axis=1).reset_index(drop=True)


def _read_parquet(path: Path, source: str) -> pd.DataFrame:
    try:
        import pyarrow  # noqa: F401  (only to know that pandas can read Parquet)
    except ImportError:
        raise ValueError(f"{source}: reading Parquet needs pyarrow (pip install 'arithnet[parquet]')") from None
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except Exception as error:  # pyarrow's errors share no base class below Exception
        raise _not_readable(source, _short_reason(error)) from None
    # A named index (written by to_parquet from set_index) is data; a plain row number is not.
    named = any(name is not None for name in frame.index.names)
    frame = frame.reset_index(drop=not named)
    return frame.set_axis([str(name).strip() for name in frame.columns], axis=1)


def _short_reason(error: BaseException) -> str:
    """The first line of a parser's message, without pandas' tokenizer preamble."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = text.removeprefix("Error tokenizing data. C error: ")
    return text if len(text) <= 100 else text[:99] + "…"


def read_table(path: str | Path, target: str, columns: Sequence[str] | None = None) -> Table:
    """The checked :class:`Table` of a file: ``target`` and the inputs ``columns`` (default: every other column)."""
    return table_from_frame(read_frame(path), target, columns, str(path))


def table_from_frame(frame: pd.DataFrame, target: str, columns: Sequence[str] | None, source: str) -> Table:
    """The checked :class:`Table` of a frame that :func:`read_frame` read from the file named ``source``."""
    available = list(frame.columns)
    target = target.strip()
    if not target or target not in available:
        raise ValueError(f"{source}: no column {target!r} (columns: {_listing(available)})")
    inputs = _choose_inputs(available, target, columns, source)
    wanted = {*inputs, target}
    in_file_order = [name for name in available if name in wanted]  # so the first bad cell is the leftmost
    matrix = _numeric(frame, in_file_order, source, ["column"] * len(in_file_order))
    where = {name: index for index, name in enumerate(in_file_order)}
    x = np.ascontiguousarray(matrix[:, [where[name] for name in inputs]])
    table = Table(tuple(inputs), target, x, matrix[:, where[target]].copy(), source)
    check_not_constant(table)
    return table


def _choose_inputs(available: list[str], target: str, columns: Sequence[str] | None, source: str) -> list[str]:
    """The input names: ``columns`` checked against the file, or every column but the target, in file order."""
    if columns is None:
        inputs = [name for name in available if name != target]
    else:
        inputs = [name.strip() for name in columns]
        for name in inputs:
            if name not in available:
                raise ValueError(f"{source}: no column {name!r} (columns: {_listing(available)})")
            if name == target:
                raise ValueError(f"{source}: column {name!r} is the target; it cannot also be an input")
        _check_unique(inputs, source, "input column")
    if not inputs:
        raise ValueError(f"{source}: no input columns (only the target column {target!r})")
    for name in inputs:
        _check_name(name, source, "column", available.index(name) + 1)
    check_distinct_names([*inputs, target], source)
    return inputs


# Names -----------------------------------------------------------------------------------------------------------


def _listing(names: Sequence[str]) -> str:
    shown = [name if name else "''" for name in names[:LISTED_COLUMNS]]
    more = f", … ({len(names)} in all)" if len(names) > LISTED_COLUMNS else ""
    return ", ".join(shown) + more


def _check_unique(names: Sequence[str], source: str, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{source}: {what} {name!r} appears twice")
        seen.add(name)


def _check_name(name: str, source: str, what: str, position: int) -> None:
    """Refuse an input column without a name; any other name works (a law keeps names as data, not code)."""
    if not name:
        raise ValueError(f"{source}: {what} {position} has no name; name it, or leave it out of the inputs")


def check_distinct_names(names: Sequence[str], source: str, what: str = "column") -> None:
    """Refuse two names that read the same once Unicode is normalised (NFKC: ``x`` and ``ｘ``, ``h`` and ``ℎ``).

    Both would print alike in a law, which could then be read with the one
    column in place of the other.
    """
    seen: dict[str, str] = {}
    for name in names:
        key = unicodedata.normalize("NFKC", name)
        if key in seen and seen[key] != name:
            where = f"{source}: " if source else ""
            raise ValueError(
                f"{where}{what}s {seen[key]!r} and {name!r} read the same once Unicode is normalised (NFKC); "
                "rename one of them"
            )
        seen.setdefault(key, name)


# Numbers ---------------------------------------------------------------------------------------------------------


def _numeric(frame: pd.DataFrame, names: Sequence[str], source: str, labels: Sequence[str]) -> np.ndarray:
    """The float64 (n, len(names)) matrix of ``frame``'s columns ``names``; ValueError at the first bad cell.

    ``labels`` says how each column is named in messages ("column", "x column", …).
    """
    columns = []
    for name, label in zip(names, labels):
        series = frame[name]
        columns.append(_column_values(series, f"{source}: {label} {name!r}"))
    matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    # argwhere lists cells row by row, so the first one is the lowest row, then the leftmost column.
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        row, column = (int(index) for index in bad[0])
        raw = frame[names[column]].iloc[row]
        what = _describe(raw, float(matrix[row, column]))
        raise ValueError(f"{source}: {labels[column]} {names[column]!r}, row {row + 1}{what}")
    return matrix


def _column_values(series: pd.Series, where: str) -> np.ndarray:
    """A column as float64, cells that are not numbers as NaN; refused whole if its type is not numbers."""
    problem = ValueError(f"{where} has dtype {series.dtype}, not real numbers")
    if series.dtype.kind in "bcmM":  # bool, complex, dates: to_numeric would turn them into numbers
        raise problem
    try:
        values = pd.to_numeric(series, errors="coerce")
    except (TypeError, ValueError):  # cells that coercion cannot handle at all (e.g. lists)
        raise problem from None
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _describe(raw: Any, value: float) -> str:
    """How a cell that did not become a finite number is described after "column 'a', row 7"."""
    if isinstance(raw, str):
        word = raw.strip().lower()
        if not word:
            return " is empty"
        if math.isnan(value):
            return " is NaN" if word in NAN_WORDS else f": {_quote(raw)} is not a number"
        sign = "-" if value < 0 else ""
        return f" is {sign}inf" if word.lstrip("+-") in INF_WORDS else f": {_quote(raw)} is too large for a float"
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return " is missing"
    if isinstance(raw, float | np.floating) and not math.isnan(value):
        return " is -inf" if value < 0 else " is inf"
    if isinstance(raw, float | np.floating):
        return " is NaN"
    return f": {_quote(raw)} is not a number"


def _quote(raw: Any) -> str:
    """The repr of a cell on one line, cut short: the message must stay one readable line."""
    text = " ".join(repr(raw).split())
    return text if len(text) <= 40 else text[:39] + "…"


def check_not_constant(table: Table) -> None:
    """Refuse a target that never changes: any constant fits it, so there is no law to find."""
    y = table.y
    if len(y) >= 2 and bool(np.all(y == y[0])):
        raise ValueError(
            f"{table.source}: target column {table.target!r} is constant (every row is {float(y[0])!r}): "
            "there is no law to find"
        )


# Arrays ----------------------------------------------------------------------------------------------------------


def table_from_arrays(
    x: Any, y: Any, names: Sequence[str] | None = None, target: str = "y", source: str = "<array>"
) -> Table:
    """The checked :class:`Table` of an input matrix ``x`` (n, I) and a target vector ``y`` (n,).

    ``x`` may be a numpy array, nested lists or a pandas DataFrame (whose string
    column names are the default ``names``; otherwise ``x0``, ``x1``, …). ``y``
    may be an array, a list or a pandas Series, whose string name is the target
    name when ``target`` is left at ``"y"``. Rows are matched by position.
    """
    x_frame = _x_frame(x, source)
    y_series = _y_series(y, source)
    if target == "y" and isinstance(y_series.name, str) and y_series.name.strip():
        target = y_series.name
    target = target.strip()
    if not target:
        raise ValueError(f"{source}: the target has no name")
    if len(x_frame) != len(y_series):
        raise ValueError(f"{source}: x has {len(x_frame)} rows but y has {len(y_series)}")
    names = _x_names(x_frame, names, target, source)
    frame = pd.concat([x_frame.set_axis(names, axis=1), y_series.rename(target).reset_index(drop=True)], axis=1)
    matrix = _numeric(frame, [*names, target], source, ["x column"] * len(names) + ["y column"])
    table = Table(tuple(names), target, np.ascontiguousarray(matrix[:, :-1]), matrix[:, -1].copy(), source)
    check_not_constant(table)
    return table


def _x_frame(x: Any, source: str) -> pd.DataFrame:
    """``x`` as a DataFrame with positional rows; numpy and list input must already be real numbers."""
    if isinstance(x, pd.DataFrame):
        frame = x.reset_index(drop=True)
    else:
        array = _real_array(x, source, "x")
        if array.ndim != 2:
            raise ValueError(f"{source}: x must be 2-D (rows, columns), got shape {array.shape}")
        frame = pd.DataFrame(array)
    if frame.shape[1] == 0:
        raise ValueError(f"{source}: x has no columns")
    return frame


def _y_series(y: Any, source: str) -> pd.Series:
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        return y.reset_index(drop=True)
    array = _real_array(y, source, "y")
    if array.ndim != 1:
        raise ValueError(f"{source}: y must be 1-D, got shape {array.shape}")
    return pd.Series(array)


def _real_array(values: Any, source: str, what: str) -> np.ndarray:
    """A numpy array of ints or floats, refusing bool, complex, text and object arrays by their dtype."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):  # ragged nested lists: numpy's own message is long and about numpy
        raise ValueError(f"{source}: {what} is not a rectangular array (rows of different lengths)") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{source}: {what} has dtype {array.dtype}, not real numbers")
    return array


def _x_names(frame: pd.DataFrame, names: Sequence[str] | None, target: str, source: str) -> list[str]:
    """The checked input names: given, else the DataFrame's string column names, else x0, x1, …"""
    if names is None:
        labels = list(frame.columns)
        from_frame = all(isinstance(label, str) for label in labels)
        names = labels if from_frame else [f"x{index}" for index in range(len(labels))]
    names = [str(name).strip() for name in names]
    if len(names) != frame.shape[1]:
        raise ValueError(f"{source}: {len(names)} names for {frame.shape[1]} x columns")
    for position, name in enumerate(names, start=1):
        _check_name(name, source, "x column", position)
    _check_unique(names, source, "x column")
    if target in names:
        raise ValueError(f"{source}: {target!r} is both an input name and the target")
    check_distinct_names([*names, target], source)
    return names


# Prediction ------------------------------------------------------------------------------------------------------


def input_matrix(frame_or_path: pd.DataFrame | str | Path, names: Sequence[str], source: str) -> np.ndarray:
    """The float64 (n, len(names)) matrix of the columns ``names`` of a DataFrame or file, for prediction."""
    if isinstance(frame_or_path, pd.DataFrame):
        frame = frame_or_path.set_axis([str(name).strip() for name in frame_or_path.columns], axis=1)
        _check_unique([name for name in frame.columns if name], source, "column")
    else:
        frame = _read_frame(Path(frame_or_path), source)
    available = list(frame.columns)
    for name in names:
        if name not in available:
            raise ValueError(f"{source}: no column {name!r}, which the law uses (columns: {_listing(available)})")
    return _numeric(frame.reset_index(drop=True), list(names), source, ["column"] * len(names))
