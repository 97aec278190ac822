"""``arithnet fit`` and ``arithnet predict``: the law found, its files, predictions, and one line for bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import sympy
from typer.testing import CliRunner

from arithnet.cli import app
from arithnet.laws import load_law

runner = CliRunner()
#: Enough for the search to stop before its first stage: fast, for tests where the law does not matter.
QUICK = ("--time-budget", "0.001")


def run(*args: str):
    return runner.invoke(app, [str(arg) for arg in args])


def lens_frame() -> pd.DataFrame:
    """y = a·b/(a + b) on 300 rows, a and b uniform in [1, 5]."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 5, 300), rng.uniform(1, 5, 300)
    return pd.DataFrame({"a": a, "b": b, "y": a * b / (a + b)})


def write_csv(frame: pd.DataFrame, path) -> str:
    frame.to_csv(path, index=False, float_format=None)  # repr: the same float64 bits when read back
    return str(path)


@pytest.fixture(scope="module")
def lens(tmp_path_factory):
    """One full search, shared: (data path, output directory, the report's result)."""
    root = tmp_path_factory.mktemp("lens")
    data = write_csv(lens_frame(), root / "lens.csv")
    result = run("fit", data, "--target", "y", "--out", root / "law")
    assert result.exit_code == 0, result.output
    return data, root / "law", result


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr


# fit -------------------------------------------------------------------------------------------------------------


def test_fit_finds_the_law_and_writes_its_files(lens):
    data, out, result = lens
    assert sorted(os.listdir(out)) == ["law.json", "law.png"]
    law = load_law(out / "law.json")
    a, b = sympy.symbols("a b")
    assert sympy.simplify(law.expression - a * b / (a + b)) == 0
    assert law.inputs == ("a", "b") and law.target == "y" and law.used() == ("a", "b")
    saved = json.loads((out / "law.json").read_text())
    assert saved["columns"] == ["a", "b", "y"] and saved["data"] == data
    assert saved["verification"] == "exact" and saved["law"] == "y = a*b/(a + b)" and saved["rows"] == 300
    assert saved["stage"] == "lattice" and saved["tree"]["mul"] and saved["stopped_by_time_budget"] is None
    assert (out / "law.png").read_bytes().startswith(b"\x89PNG")
    for text in (
        "law: y = a*b/(a + b)",
        r"LaTeX: y = \frac{a b}{a + b}",
        "verification: exact on the held-out rows",
        "found by: the lattice stage",
        "relative RMS error over all rows",
        "→",
        "time: ",
        f"wrote {out / 'law.json'}, {out / 'law.png'}",
    ):
        assert text in result.stdout, text


def test_fit_json_is_one_object_and_other_files_stay(tmp_path):
    data = write_csv(lens_frame(), tmp_path / "lens.csv")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "law.png").write_text("an earlier fit's figure")
    result = run("fit", data, "--target", "y", "--columns", "a,b", "--out", out, "--json", "--no-figure", *QUICK)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # exactly one JSON object: anything else on stdout fails here
    assert summary["files"] == [str(out / "law.json")] and summary["rows"] == 300
    # The budget stops the search after the power law, which does not reach a·b/(a + b).
    assert summary["verification"] == "not verified" and summary["stopped_by_time_budget"] == "lattice"
    assert summary["candidates"][0]["stage"] == "power law"
    assert sorted(os.listdir(out)) == ["law.json", "notes.txt"]  # the stale figure went, the notes stayed
    saved = json.loads((out / "law.json").read_text())
    assert saved["config"]["time_budget"] == 0.001 and saved["config"]["seed"] == 0
    assert str(load_law(out / "law.json")) == summary["law"]


def test_fit_report_of_a_search_the_budget_cut_short(tmp_path):
    data = write_csv(lens_frame(), tmp_path / "lens.csv")
    result = run("fit", data, "--target", "y", "--out", tmp_path / "out", "--seed", "3", *QUICK)
    assert result.exit_code == 0, result.output
    assert "verification: not verified: the best candidate misses the held-out rows by" in result.stdout
    assert "note: stopped by the time budget (0.001 s) during the lattice stage" in result.stdout
    assert "found by: the power law stage" in result.stdout


def test_fit_report_of_a_noisy_law_gives_its_constants_intervals(tmp_path):
    frame = lens_frame()
    frame["y"] = 2 * frame["y"] * (1 + 0.01 * np.random.default_rng(1).standard_normal(len(frame)))
    result = run("fit", write_csv(frame, tmp_path / "noisy.csv"), "--target", "y", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "out" / "law.json").read_text())
    assert saved["verification"] == "noise" and saved["law"] == "y = 2*a*b/(a + b)"
    # y = 2/(1/a + c/b): c and the factor 2 are the law's fitted constants, each snapped within its interval.
    assert [constant["value"] for constant in saved["constants"]] == ["1", "2"]
    constant = saved["constants"][1]
    assert constant["snapped_within"][0] < 2 < constant["snapped_within"][1]
    low, high = constant["interval_95"]
    assert low < constant["fitted"] < high and high - low < 0.1
    assert "constant: 2, snapped within [" in result.stdout


def test_fit_reads_parquet(tmp_path):
    path = tmp_path / "lens.parquet"
    lens_frame().to_parquet(path)
    result = run("fit", path, "--target", "y", "--out", tmp_path / "out", "--json", *QUICK)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "law.json").read_text())["data"] == str(path)


def bad_table(tmp_path, case: str) -> str:
    """The data file of one bad-input case."""
    frame = lens_frame().astype(object)
    path = tmp_path / ("data.txt" if case == "not csv" else "data.csv")
    if case == "missing":
        return str(path)
    if case == "text":
        frame.loc[7, "b"] = "abc"
    elif case in ("nan", "inf"):
        frame.loc[7, "a"] = case
    elif case == "few rows":
        frame = frame.head(5)
    elif case == "constant":
        frame["y"] = 2.0
    return write_csv(frame, path)


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        ("missing", [], "data.csv: no such file"),
        ("not csv", [], "data.txt: not a CSV or Parquet file"),
        ("fine", ["--target", "z"], "no column 'z' (columns: a, b, y)"),
        ("fine", ["--columns", "a,c"], "no column 'c'"),
        ("text", [], "column 'b', row 8: 'abc' is not a number"),
        ("nan", [], "column 'a', row 8 is NaN"),
        ("inf", [], "column 'a', row 8 is inf"),
        ("few rows", [], "5 rows; the search needs at least 8"),
        ("constant", [], "target column 'y' is constant"),
        ("fine", ["--seed", "-1"], "seed must be an integer of at least 0"),
        ("fine", ["--time-budget", "0"], "time budget must be a finite number above 0"),
        ("fine", ["--time-budget", "nan"], "time budget must be a finite number above 0"),
        ("fine", ["--bogus"], "No such option: --bogus"),
        ("fine", ["--seed", "one"], "Invalid value for '--seed'"),
    ],
)
def test_fit_bad_input_gets_one_line_and_writes_nothing(tmp_path, case, args, message):
    data = bad_table(tmp_path, case)
    target = [] if "--target" in args else ["--target", "y"]
    quick = [] if "--time-budget" in args else QUICK
    result = run("fit", data, *target, *args, "--out", tmp_path / "runs" / "law", *quick)
    assert message in one_line_error(result)
    assert not (tmp_path / "runs").exists()


def test_fit_needs_a_target(tmp_path):
    data = write_csv(lens_frame(), tmp_path / "lens.csv")
    assert "Missing option '--target'" in one_line_error(run("fit", data, "--out", tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("out", "message"), [("file", "exists and is not a directory"), ("file/law", "Not a directory")]
)
def test_fit_refuses_an_output_directory_it_cannot_write(tmp_path, out, message):
    data = write_csv(lens_frame(), tmp_path / "lens.csv")
    (tmp_path / "file").write_text("not a directory")
    assert message in one_line_error(run("fit", data, "--target", "y", "--out", tmp_path / out, *QUICK))
    assert sorted(os.listdir(tmp_path)) == ["file", "lens.csv"]


def test_fit_that_fails_to_write_leaves_nothing(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("arithnet.plots.law_figure", full_disk)
    data = write_csv(lens_frame(), tmp_path / "lens.csv")
    result = run("fit", data, "--target", "y", "--out", tmp_path / "runs" / "law", *QUICK)
    assert "cannot be written: No space left on device" in one_line_error(result)
    assert sorted(os.listdir(tmp_path)) == ["lens.csv"]  # neither files nor the directories made for them


# predict ---------------------------------------------------------------------------------------------------------


def expected(frame: pd.DataFrame) -> np.ndarray:
    a, b = frame["a"].to_numpy(), frame["b"].to_numpy()
    return a * b / (a + b)


def test_predict_to_standard_output(lens, tmp_path):
    _, out, _ = lens
    new = lens_frame().drop(columns="y").iloc[:50] * 3.0  # outside the fitted range too
    result = run("predict", out / "law.json", write_csv(new, tmp_path / "new.csv"))
    assert result.exit_code == 0, result.output
    (tmp_path / "printed.csv").write_text(result.stdout)
    printed = pd.read_csv(tmp_path / "printed.csv")
    assert list(printed.columns) == ["a", "b", "prediction"]
    np.testing.assert_array_equal(printed[["a", "b"]].to_numpy(), new.to_numpy())
    np.testing.assert_allclose(printed["prediction"].to_numpy(), expected(new), rtol=1e-12, atol=0)


def test_predict_to_a_file_with_a_column_name(lens, tmp_path):
    _, out, _ = lens
    new = lens_frame()[["b", "y", "a"]].iloc[:20]  # other order, an extra column: output in the law's order
    path = tmp_path / "new.parquet"
    new.to_parquet(path)
    result = run("predict", out / "law.json", path, "--output", tmp_path / "p" / "pred.csv", "--column", "y_hat")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    written = pd.read_csv(tmp_path / "p" / "pred.csv")
    assert list(written.columns) == ["a", "b", "y_hat"]
    np.testing.assert_allclose(written["y_hat"].to_numpy(), expected(new), rtol=1e-12, atol=0)
    assert [name for name in os.listdir(tmp_path / "p") if name != "pred.csv"] == []  # no temporary left


@pytest.mark.parametrize(
    ("law", "new", "args", "message"),
    [
        ("missing", "fine", [], "law.json: no such file"),
        ("foreign", "fine", [], "law.json: not an arithnet law file"),
        ("fine", "missing", [], "new.csv: no such file"),
        ("fine", "not csv", [], "new.txt: not a CSV or Parquet file"),
        ("fine", "no b", [], "new.csv: no column 'b', which the law uses (columns: a, c)"),
        ("fine", "text", [], "new.csv: column 'b', row 3: 'x' is not a number"),
        ("fine", "nan", [], "new.csv: column 'a', row 3 is NaN"),
        ("fine", "fine", ["--column", "a"], "prediction column 'a' is an input column of the law"),
        ("fine", "fine", ["--column", " "], "the prediction column needs a name"),
        ("fine", "fine", ["--bogus"], "No such option: --bogus"),
    ],
)
def test_predict_bad_input_gets_one_line_and_writes_nothing(lens, tmp_path, law, new, args, message):
    law_path = tmp_path / "law.json"
    if law == "fine":
        law_path.write_text((lens[1] / "law.json").read_text())
    elif law == "foreign":
        law_path.write_text('{"law": "a*b"}')
    frame = pd.DataFrame(
        {"a": ["1.5", "2", "nan" if new == "nan" else "3"], "b": ["1", "2", "x" if new == "text" else "4"]}
    )
    if new == "no b":
        frame = frame.rename(columns={"b": "c"})
    new_path = tmp_path / ("new.txt" if new == "not csv" else "new.csv")
    if new != "missing":
        frame.to_csv(new_path, index=False)
    result = run("predict", law_path, new_path, *args, "--output", tmp_path / "out" / "pred.csv")
    assert message in one_line_error(result)
    assert not (tmp_path / "out").exists()


HAND_EDITED = [
    ("a renamed input", lambda d: d | {"inputs": ["z", "b"]}, "input 'a' is not among the law's declared inputs"),
    ("a removed input", lambda d: d | {"inputs": ["b"]}, "input 'a' is not among the law's declared inputs"),
    ("inputs twice", lambda d: d | {"inputs": ["a", "b", "b"]}, "input 'b' is declared twice"),
    ("inputs not text", lambda d: d | {"inputs": [1, 2]}, '"inputs" must be a list of column names'),
    ("a law of 42", lambda d: d | {"tree": 42}, "a node must be an object with one key, got 42"),
    ("code as a law", lambda d: d | {"tree": "__import__('os')"}, "a node must be an object with one key"),
    ("a function", lambda d: d | {"tree": {"function": "f"}}, "unknown node 'function'"),
    ("an undeclared symbol", lambda d: d | {"tree": {"input": "c"}}, "input 'c' is not among the law's declared"),
    ("version 1", lambda d: d | {"version": 1}, "version 1, which this arithnet no longer reads"),
    ("not an object", lambda d: [d], "not an arithnet law file"),
]


@pytest.mark.parametrize(("case", "edit", "message"), HAND_EDITED, ids=[case for case, _, _ in HAND_EDITED])
def test_predict_with_a_hand_edited_law_file_gets_one_line(lens, tmp_path, case, edit, message):
    edited = tmp_path / "law.json"
    edited.write_text(json.dumps(edit(json.loads((lens[1] / "law.json").read_text()))))
    new = write_csv(lens_frame().iloc[:5], tmp_path / "new.csv")
    assert message in one_line_error(run("predict", edited, new))


def test_a_division_by_zero_predicts_nan(lens, tmp_path):
    new = pd.DataFrame({"a": [0.0, 1.0], "b": [0.0, 1.0]})
    result = run("predict", lens[1] / "law.json", write_csv(new, tmp_path / "new.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["0.0,0.0,nan", "1.0,1.0,0.5"]


@pytest.mark.parametrize("names", [("pi", "sqrt"), ("Symbol", "mass (kg)"), ("E", "I")])
def test_columns_named_like_constants_and_functions_fit_and_predict(tmp_path, names):
    frame = lens_frame().rename(columns={"a": names[0], "b": names[1]})
    data = write_csv(frame, tmp_path / "named.csv")
    result = run("fit", data, "--target", "y", "--out", tmp_path / "out", "--json", "--no-figure")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)["law"]
    assert printed.startswith("y = ") and all(f"`{n}`" in printed or n == "Symbol" for n in names), printed
    predicted = run("predict", tmp_path / "out" / "law.json", data)
    assert predicted.exit_code == 0, predicted.output
    (tmp_path / "p.csv").write_text(predicted.stdout)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["prediction"], expected(lens_frame()), rtol=1e-12)


@pytest.mark.parametrize(("output", "message"), [("dir", "is a directory"), ("file/pred.csv", "Not a directory")])
def test_predict_refuses_an_output_it_cannot_write(lens, tmp_path, output, message):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("not a directory")
    new = write_csv(lens_frame().iloc[:5], tmp_path / "new.csv")
    result = run("predict", lens[1] / "law.json", new, "--output", tmp_path / output)
    assert message in one_line_error(result)
    assert sorted(os.listdir(tmp_path)) == ["dir", "file", "new.csv"] and os.listdir(tmp_path / "dir") == []


def test_fit_refuses_a_table_too_wide_before_reading_it(tmp_path):
    frame = pd.DataFrame(np.ones((30, 102)), columns=[f"c{i}" for i in range(101)] + ["y"])
    data = write_csv(frame, tmp_path / "wide.csv")
    message = "wide.csv: 101 input columns; a search takes at most 100: choose them with --columns"
    assert message in one_line_error(run("fit", data, "--target", "y", "--out", tmp_path / "out"))
    assert not (tmp_path / "out").exists()
