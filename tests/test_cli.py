"""The command line: reports, files, and one clear line with exit code 2 for bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from arithnet.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_train_report_and_files(tmp_path):
    result = run("train", "div", "--seeds", "10", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for text in ("weight_in", "weight_out", "formula of seed 0: x0/x1", "solved: 10 of 10", "x10-x1000", "wall time"):
        assert text in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "result.json", "weights.png"]
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["config"]["operation"] == "div" and saved["config"]["n_seeds"] == 10


def test_json_summary(tmp_path):
    result = run("train", "sub", "--seeds", "3", "--first-seed", "4", "--steps", "400", "--json", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["op"] == "sub" and summary["recipe"] == "default"
    assert summary["n_seeds"] == 3 and summary["n_solved"] == 3
    assert summary["formula"] == "x0 - x1"
    assert summary["seconds"] > 0
    assert summary["config"]["first_seed"] == 4 and summary["config"]["steps"] == 400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "pow"], "unknown operation 'pow'; valid operations: add, sub, mul, div"),
        (["train", "div", "--recipe", "magic"], "unknown recipe 'magic'; valid recipes: default, seed-v1, seed-v2"),
        (["train", "div", "--seeds", "0"], "number of seeds must be at least 1"),
        (["train", "div", "--seeds", "-4"], "number of seeds must be at least 1"),
        (["train", "div", "--steps", "0"], "number of steps must be at least 1"),
        (["train", "add", "--range", "5,1"], "empty or inverted"),
        (["train", "add", "--range", "2,2"], "empty or inverted"),
        (["train", "add", "--range", "one,two"], "must be two numbers"),
        (["train", "add", "--range", "nan,2"], "finite"),
        (["train", "div", "--range", "-1,1"], "holds zero"),
        (["train", "mul", "--recipe", "seed-v2"], "trains only div"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_2(tmp_path, args, message):
    result = run(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert not (tmp_path / "out" / "result.json").exists()


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run("train", "add", "--seeds", "2", "--out", str(blocker / "run"))
    assert result.exit_code == 2
    assert "cannot be written" in result.output and "Traceback" not in result.output


def test_unknown_option_exits_2():
    result = run("train", "div", "--bogus")
    assert result.exit_code == 2
    assert "No such option" in result.output
