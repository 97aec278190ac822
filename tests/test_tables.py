"""arithnet.tables: reading CSV/Parquet and arrays into checked tables, with one-line messages for bad input."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from arithnet.tables import Table, check_not_constant, input_matrix, read_frame, read_table, table_from_arrays


def exactly(message: str) -> str:
    """A pattern matching the whole message and nothing more (so also: no second line)."""
    return f"^{re.escape(message)}\\Z"


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "a,b,y\n1,2,3\n4.5,-6e-3,7\n0.1,1e10,-2\n"


# Good files ----------------------------------------------------------------------------------------------------


def test_csv_round_trip(tmp_path):
    path = write(tmp_path, GOOD)
    table = read_table(path, "y")
    assert isinstance(table, Table)
    assert table.names == ("a", "b")
    assert table.target == "y"
    assert table.source == str(path)
    assert table.x.dtype == np.float64 and table.x.flags.c_contiguous
    np.testing.assert_array_equal(table.x, [[1, 2], [4.5, -6e-3], [0.1, 1e10]])
    np.testing.assert_array_equal(table.y, [3, 7, -2])


def test_csv_spaces_around_names_and_cells_are_ignored(tmp_path):
    path = write(tmp_path, " a , y \n 1 , 2 \n3,4\n")
    table = read_table(path, "y")
    assert table.names == ("a",)
    np.testing.assert_array_equal(table.x[:, 0], [1, 3])


def test_csv_target_may_be_first(tmp_path):
    table = read_table(write(tmp_path, "y,a,b\n1,2,3\n4,5,6\n"), "y")
    assert table.names == ("a", "b")
    np.testing.assert_array_equal(table.y, [1, 4])


def test_columns_choose_and_order_inputs_and_unused_columns_are_not_checked(tmp_path):
    path = write(tmp_path, "note,a,b,y\nhello,1,2,3\n,4,5,6\n")
    table = read_table(path, "y", columns=["b", "a"])
    assert table.names == ("b", "a")
    np.testing.assert_array_equal(table.x, [[2, 1], [5, 4]])


def test_unnamed_index_column_can_be_left_out(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"a": [1.0, 2.0], "y": [3.0, 5.0]}).to_csv(path)  # writes an unnamed index column
    assert read_table(path, "y", columns=["a"]).names == ("a",)
    with pytest.raises(
        ValueError, match=exactly(f"{path}: column 1 has no name; name it, or leave it out of the inputs")
    ):
        read_table(path, "y")


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.25, 0.125], "y": [1.0, 2.0, 4.0], "s": ["x", "y", "z"]})
    for name in ("data.parquet", "data.PQ"):
        path = tmp_path / name
        frame.to_parquet(path)
        table = read_table(path, "y", columns=["a", "b"])
        np.testing.assert_array_equal(table.x, [[1, 0.5], [2, 0.25], [3, 0.125]])
        np.testing.assert_array_equal(table.y, [1, 2, 4])


def test_parquet_named_index_is_a_column(tmp_path):
    path = tmp_path / "data.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "y": [3.0, 5.0]}).set_index("a").to_parquet(path)
    assert list(read_frame(path).columns) == ["a", "y"]


def test_read_frame_keeps_csv_cells_as_text(tmp_path):
    frame = read_frame(write(tmp_path, "a,b\n1.50,x\n"))
    assert list(frame.columns) == ["a", "b"]
    assert frame.iloc[0].tolist() == ["1.50", "x"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_any_finite_matrix_reads_back_bit_identical(tmp_path, matrix):
    rows = [",".join(repr(float(v)) for v in row) + f",{i}" for i, row in enumerate(matrix)]
    header = ",".join(f"c{j}" for j in range(matrix.shape[1])) + ",t"
    path = write(tmp_path, "\n".join([header, *rows]) + "\n")
    table = read_table(path, "t")
    assert table.x.shape == matrix.shape
    assert table.x.view(np.uint64).tolist() == matrix.view(np.uint64).tolist()


# Bad files -----------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nothing.csv"
    with pytest.raises(ValueError, match=exactly(f"{path}: no such file")):
        read_table(path, "y")


@pytest.mark.parametrize("name", ["data.json", "data.txt", "data.tsv", "data"])
def test_other_extensions_are_refused(tmp_path, name):
    path = write(tmp_path, GOOD, name)
    with pytest.raises(ValueError, match=exactly(f"{path}: not a CSV or Parquet file")):
        read_table(path, "y")


def test_directory(tmp_path):
    path = tmp_path / "dir.csv"
    path.mkdir()
    with pytest.raises(ValueError, match=exactly(f"{path}: not a CSV or Parquet file (a directory)")):
        read_frame(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (bytes(range(256)) * 8, "binary data"),
        ("a,y\ncaf\u00e9,1\n".encode("latin-1"), "not UTF-8 text"),
        (b"a,y\n1,2\n3,4,5\n", "Expected 2 fields in line 3, saw 3"),
    ],
)
def test_unparseable_csv(tmp_path, content, reason):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=exactly(f"{path}: not a CSV or Parquet file ({reason})")):
        read_frame(path)


@pytest.mark.parametrize("content", [b"", b"not parquet at all", bytes(range(256)) * 8])
def test_unparseable_parquet(tmp_path, content):
    path = tmp_path / "data.parquet"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"^{re.escape(f'{path}: not a CSV or Parquet file (')}[^\n]+\\)\\Z"):
        read_frame(path)


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    path = tmp_path / "data.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "y": [3.0, 5.0]}).to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` raise ImportError
    message = f"{path}: reading Parquet needs pyarrow (pip install 'arithnet[parquet]')"
    with pytest.raises(ValueError, match=exactly(message)):
        read_table(path, "y")


def test_repeated_column_name(tmp_path):
    path = write(tmp_path, "a,b,a,y\n1,2,3,4\n")
    with pytest.raises(ValueError, match=exactly(f"{path}: column 'a' appears twice")):
        read_frame(path)


@pytest.mark.parametrize(
    ("target", "columns", "message"),
    [
        ("z", None, "no column 'z' (columns: a, b, y)"),
        ("", None, "no column '' (columns: a, b, y)"),
        ("y", ["a", "c"], "no column 'c' (columns: a, b, y)"),
        ("y", ["a", "y"], "column 'y' is the target; it cannot also be an input"),
        ("y", ["a", "b", "a"], "input column 'a' appears twice"),
        ("y", [], "no input columns (only the target column 'y')"),
    ],
)
def test_bad_column_choice(tmp_path, target, columns, message):
    path = write(tmp_path, GOOD)
    with pytest.raises(ValueError, match=exactly(f"{path}: {message}")):
        read_table(path, target, columns)


def test_only_a_target_column(tmp_path):
    path = write(tmp_path, "y\n1\n2\n")
    with pytest.raises(ValueError, match=exactly(f"{path}: no input columns (only the target column 'y')")):
        read_table(path, "y")


def test_long_column_lists_are_cut(tmp_path):
    names = [f"c{i}" for i in range(30)]
    path = write(tmp_path, ",".join(names) + "\n" + ",".join("1" * 30) + "\n")
    listing = ", ".join(names[:20]) + ", … (30 in all)"
    with pytest.raises(ValueError, match=exactly(f"{path}: no column 'y' (columns: {listing})")):
        read_table(path, "y")


@pytest.mark.parametrize("name", ["mass (kg)", "2x", "a-b", "%", "lambda", "pi", "sqrt", "Symbol", "ω₀"])
def test_any_column_name_works(tmp_path, name):
    table = read_table(write(tmp_path, f"{name},y\n1,2\n3,4\n"), "y")
    assert table.names == (name,)


@pytest.mark.parametrize(("first", "second"), [("x", "ｘ"), ("h", "ℎ")])
def test_names_equal_under_nfkc_are_refused_naming_both(tmp_path, first, second):
    path = write(tmp_path, f"{first},{second},y\n1,2,3\n3,4,5\n")
    message = f"{path}: columns {first!r} and {second!r} read the same once Unicode is normalised (NFKC); rename one"
    with pytest.raises(ValueError, match=exactly(message + " of them")):
        read_table(path, "y")
    with pytest.raises(ValueError, match="read the same once Unicode is normalised"):
        table_from_arrays(np.ones((2, 2)), [1.0, 2.0], names=[first, second])


def test_an_input_without_a_name_is_refused(tmp_path):
    path = write(tmp_path, ",y\n1,2\n3,4\n")
    message = f"{path}: column 1 has no name; name it, or leave it out of the inputs"
    with pytest.raises(ValueError, match=exactly(message)):
        read_table(path, "y")


def test_target_name_need_not_be_a_symbol(tmp_path):
    table = read_table(write(tmp_path, "a,force (N)\n1,2\n3,4\n"), "force (N)")
    assert table.target == "force (N)"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("1,2,3\n4,abc,6\n", "column 'b', row 2: 'abc' is not a number"),
        ("1,2,3\n4,,6\n", "column 'b', row 2 is empty"),
        ("1,2,3\n4, ,6\n", "column 'b', row 2 is empty"),
        ("1,2,3\n4,5\n", "column 'y', row 2 is empty"),
        ("1,2,3\n4,NaN,6\n", "column 'b', row 2 is NaN"),
        ("1,2,3\n4,NA,6\n", "column 'b', row 2 is NaN"),
        ("1,2,3\n4,inf,6\n", "column 'b', row 2 is inf"),
        ("1,2,3\n4,-Infinity,6\n", "column 'b', row 2 is -inf"),
        ("1,2,3\n4,1e400,6\n", "column 'b', row 2: '1e400' is too large for a float"),
        ("1,2,x\n4,5,6\n", "column 'y', row 1: 'x' is not a number"),
        ("1,2,3\n4,5,z\n7,x,9\n", "column 'y', row 2: 'z' is not a number"),
        ("1,2,3\nq,r,s\n", "column 'a', row 2: 'q' is not a number"),
        ('1,2,3\n4,"1,5",6\n', "column 'b', row 2: '1,5' is not a number"),
        ('1,2,3\n4,"x""\ny",6\n', "column 'b', row 2: 'x\"\\ny' is not a number"),
        ("1,2,3\n4," + "9" * 60 + "x,6\n", "column 'b', row 2: '" + "9" * 38 + "… is not a number"),
    ],
)
def test_first_bad_cell_is_reported(tmp_path, rows, message):
    path = write(tmp_path, "a,b,y\n" + rows)
    with pytest.raises(ValueError, match=exactly(f"{path}: {message}")):
        read_table(path, "y")


def test_bad_cells_in_file_order_when_target_comes_first(tmp_path):
    path = write(tmp_path, "y,a\n1,2\nx,q\n")
    with pytest.raises(ValueError, match=exactly(f"{path}: column 'y', row 2: 'x' is not a number")):
        read_table(path, "y")


def test_constant_target(tmp_path):
    path = write(tmp_path, "a,y\n1,3\n2,3.0\n3,3e0\n")
    message = f"{path}: target column 'y' is constant (every row is 3.0): there is no law to find"
    with pytest.raises(ValueError, match=exactly(message)):
        read_table(path, "y")


def test_parquet_bad_cells(tmp_path):
    path = tmp_path / "data.parquet"
    frame = pd.DataFrame({"a": [1.0, 2.0, np.nan], "f": [True, False, True], "s": ["1", "2x", "3"], "y": [1.0, 2, 3]})
    frame.to_parquet(path)
    with pytest.raises(ValueError, match=exactly(f"{path}: column 'a', row 3 is NaN")):
        read_table(path, "y", columns=["a"])
    with pytest.raises(ValueError, match=exactly(f"{path}: column 'f' has dtype bool, not real numbers")):
        read_table(path, "y", columns=["f"])
    with pytest.raises(ValueError, match=exactly(f"{path}: column 's', row 2: '2x' is not a number")):
        read_table(path, "y", columns=["s"])


def test_few_rows_are_left_to_the_fit(tmp_path):
    assert read_table(write(tmp_path, "a,y\n1,2\n"), "y").x.shape == (1, 1)
    assert read_table(write(tmp_path, "a,y\n"), "y").x.shape == (0, 1)


# Arrays --------------------------------------------------------------------------------------------------------


def test_arrays_round_trip():
    x = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.int32)
    table = table_from_arrays(x, [1.0, 2.0, 4.0])
    assert table.names == ("x0", "x1") and table.target == "y" and table.source == "<array>"
    assert table.x.dtype == np.float64 and table.y.dtype == np.float64
    np.testing.assert_array_equal(table.x, x)


def test_lists_names_target_and_source():
    table = table_from_arrays([[1.0], [2.0]], [3, 5], names=["m"], target="F", source="mine.csv")
    assert (table.names, table.target, table.source) == (("m",), "F", "mine.csv")


def test_dataframe_and_series_give_names():
    x = pd.DataFrame({"m": [1.0, 2.0], "a": [3.0, 4.0]}, index=[10, 20])
    y = pd.Series([3.0, 8.0], name="F", index=[5, 6])  # rows match by position, not by index
    table = table_from_arrays(x, y)
    assert (table.names, table.target) == (("m", "a"), "F")
    np.testing.assert_array_equal(table.y, [3.0, 8.0])
    assert table_from_arrays(x, y, target="force").target == "force"
    assert table_from_arrays(x, y, names=["p", "q"]).names == ("p", "q")
    assert table_from_arrays(pd.DataFrame([[1.0], [2.0]]), pd.Series([1.0, 2.0])).names == ("x0",)
    assert table_from_arrays(x, y.to_frame()).target == "F"


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        ([[1.0, 2.0], [3.0, np.nan], [4.0, 5.0]], [1.0, 2.0, 3.0], {}, "x column 'x1', row 2 is NaN"),
        ([[1.0], [2.0]], [1.0, -np.inf], {}, "y column 'y', row 2 is -inf"),
        ([[1.0], [np.nan]], [np.nan, 1.0], {}, "y column 'y', row 1 is NaN"),
        ([1.0, 2.0], [1.0, 2.0], {}, "x must be 2-D (rows, columns), got shape (2,)"),
        (np.empty((2, 0)), [1.0, 2.0], {}, "x has no columns"),
        ([[1.0], [2.0]], [[1.0], [2.0]], {}, "y must be 1-D, got shape (2, 1)"),
        ([[1.0], [2.0], [3.0]], [1.0, 2.0], {}, "x has 3 rows but y has 2"),
        ([[True], [False]], [1.0, 2.0], {}, "x has dtype bool, not real numbers"),
        ([[1.0], [2.0]], [1j, 2.0], {}, "y has dtype complex128, not real numbers"),
        ([[1.0], [None]], [1.0, 2.0], {}, "x has dtype object, not real numbers"),
        ([["1"], ["2"]], [1.0, 2.0], {}, "x has dtype <U1, not real numbers"),
        ([[1.0], [2.0, 3.0]], [1.0, 2.0], {}, "x is not a rectangular array (rows of different lengths)"),
        ([[1.0], [2.0]], [1.0, 2.0], {"names": ["a", "b"]}, "2 names for 1 x columns"),
        ([[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0], {"names": ["a", "a"]}, "x column 'a' appears twice"),
        ([[1.0], [2.0]], [1.0, 2.0], {"names": [""]}, "x column 1 has no name"),
        ([[1.0], [2.0]], [1.0, 2.0], {"names": [""]}, "x column 1 has no name; name it, or leave it out of the inputs"),
        ([[1.0], [2.0]], [1.0, 2.0], {"names": ["y"]}, "'y' is both an input name and the target"),
        ([[1.0], [2.0]], [1.0, 2.0], {"target": " "}, "the target has no name"),
        ([[1.0], [2.0]], [2.5, 2.5], {}, "target column 'y' is constant (every row is 2.5): there is no law to find"),
    ],
)
def test_bad_arrays(x, y, kwargs, message):
    pattern = f"^{re.escape('<array>: ' + message)}[^\n]*\\Z"
    with pytest.raises(ValueError, match=pattern):
        table_from_arrays(np.asarray(x) if isinstance(x, np.ndarray) else x, y, **kwargs)


def test_bad_dataframe_columns():
    y = pd.Series([1.0, 2.0], name="F")
    with pytest.raises(ValueError, match=exactly("src.csv: x column 'b' has dtype bool, not real numbers")):
        table_from_arrays(pd.DataFrame({"a": [1.0, 2.0], "b": [True, False]}), y, source="src.csv")
    with pytest.raises(ValueError, match=exactly("<array>: x column 'a', row 2: 'abc' is not a number")):
        table_from_arrays(pd.DataFrame({"a": ["1", "abc"]}), y)
    with pytest.raises(ValueError, match=exactly("<array>: y column 'F', row 2 is missing")):
        table_from_arrays(pd.DataFrame({"a": [1.0, 2.0]}), pd.Series([1, None], dtype="Int64", name="F"))


def test_check_not_constant_allows_one_row():
    check_not_constant(Table(("a",), "y", np.ones((1, 1)), np.ones(1), "<array>"))
    message = "t.csv: target column 'y' is constant (every row is -0.0): there is no law to find"
    with pytest.raises(ValueError, match=exactly(message)):
        check_not_constant(Table(("a",), "y", np.ones((2, 1)), np.array([-0.0, 0.0]), "t.csv"))


# Prediction input ----------------------------------------------------------------------------------------------


def test_input_matrix_from_frame_and_file(tmp_path):
    frame = pd.DataFrame({"b": [1, 2], " a ": [3.5, 4.5], "junk": ["x", None]})
    matrix = input_matrix(frame, ["a", "b"], "<frame>")
    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, [[3.5, 1], [4.5, 2]])
    path = write(tmp_path, "a,b\n1,2\n3,4\n", "NEW.csv")
    np.testing.assert_array_equal(input_matrix(path, ["b"], "NEW.csv"), [[2], [4]])
    np.testing.assert_array_equal(input_matrix(str(path), [], "NEW.csv"), np.empty((2, 0)))


def test_input_matrix_errors(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,oops\n", "NEW.csv")
    with pytest.raises(ValueError, match=exactly("NEW.csv: no column 'v', which the law uses (columns: a, b)")):
        input_matrix(path, ["a", "v"], "NEW.csv")
    with pytest.raises(ValueError, match=exactly("NEW.csv: column 'b', row 2: 'oops' is not a number")):
        input_matrix(read_frame(path), ["a", "b"], "NEW.csv")
    with pytest.raises(ValueError, match=exactly("gone.csv: no such file")):
        input_matrix(tmp_path / "gone.csv", ["a"], "gone.csv")
