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
    assert saved["verification"] == "exact" and saved["text"] == "y = a*b/(a + b)" and saved["rows"] == 300
    assert (out / "law.png").read_bytes().startswith(b"\x89PNG")
    for text in (
        "law: y = a*b/(a + b)",
        r"LaTeX: y = \frac{a b}{a + b}",
        "verification: exact on the held-out rows",
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
    assert summary["verification"] in ("exact", "noise", "none") and summary["candidates"]
    assert sorted(os.listdir(out)) == ["law.json", "notes.txt"]  # the stale figure went, the notes stayed
    saved = json.loads((out / "law.json").read_text())
    assert saved["config"]["time_budget"] == 0.001 and saved["config"]["seed"] == 0
    assert str(load_law(out / "law.json")) == summary["law"]


def test_fit_report_of_a_law_found_in_a_hurry(tmp_path):
    data = write_csv(lens_frame(), tmp_path / "lens.csv")
    result = run("fit", data, "--target", "y", "--out", tmp_path / "out", "--seed", "3", *QUICK)
    assert result.exit_code == 0, result.output
    verification = json.loads((tmp_path / "out" / "law.json").read_text())["verification"]
    expected = {"exact": "exact on", "noise": "verified to the noise level", "none": "not verified: the best"}
    assert f"verification: {expected[verification]}" in result.stdout


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


@pytest.mark.parametrize(("output", "message"), [("dir", "is a directory"), ("file/pred.csv", "Not a directory")])
def test_predict_refuses_an_output_it_cannot_write(lens, tmp_path, output, message):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("not a directory")
    new = write_csv(lens_frame().iloc[:5], tmp_path / "new.csv")
    result = run("predict", lens[1] / "law.json", new, "--output", tmp_path / output)
    assert message in one_line_error(result)
    assert sorted(os.listdir(tmp_path)) == ["dir", "file", "new.csv"] and os.listdir(tmp_path / "dir") == []
