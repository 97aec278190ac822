"""The command line: reports, files, and one clear line with exit code 2 for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
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
    result = run(
        "train", "sub", "--seeds", "3", "--first-seed", "4", "--steps", "400", "--json", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["op"] == "sub" and summary["recipe"] == "default"
    assert summary["n_seeds"] == 3 and summary["n_solved"] == 3
    assert summary["formula"] == "x0 - x1" and summary["solved"] == [True, True, True]
    assert all(e["max_first_seed"] < 1e-6 for e in summary["errors"].values())
    assert summary["config"]["first_seed"] == 4 and summary["config"]["steps"] == 400
    # result.json holds the same object, wall time included.
    assert json.loads((tmp_path / "result.json").read_text()) == summary


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "pow"], "unknown operation 'pow'; valid operations: add, sub, mul, div"),
        (["train", "div", "--recipe", "magic"], "unknown recipe 'magic'; valid recipes: default, seed-v1, seed-v2"),
        (["train", "div", "--seeds", "0"], "number of seeds must be an integer of at least 1"),
        (["train", "div", "--seeds", "-4"], "number of seeds must be an integer of at least 1"),
        (["train", "div", "--steps", "0"], "number of steps must be an integer of at least 1"),
        (["train", "add", "--range", "5,1"], "empty or inverted"),
        (["train", "add", "--range", "2,2"], "empty or inverted"),
        (["train", "add", "--range", "one,two"], "must be two numbers"),
        (["train", "add", "--range", "nan,2"], "finite"),
        (["train", "div", "--range", "-1,1"], "holds zero"),
        (["train", "mul", "--recipe", "seed-v2"], "trains only div"),
        (["train", "sub", "--recipe", "seed-v1"], "recipe 'seed-v1' trains only div, not 'sub'"),
        (["train", "add", "--range", "-1e308,1e308"], "each end must be 0 or between 1e-100 and 1e+100"),
        (["train", "add", "--range", "1e-200,1"], "between 1e-100 and 1e+100"),
        (["train", "div", "--seeds", "100000000"], "number of seeds must be at most 100,000, got 100,000,000"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code_2(tmp_path, args, message):
    result = run(*args, "--out", str(tmp_path / "runs" / "out"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert list(tmp_path.iterdir()) == []  # refused before anything is created, not even the parent


def strict_json(text: str):
    """JSON as strict parsers read it: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


def test_a_diverged_seed_is_null_in_strict_json_and_replaces_the_last_run(tmp_path):
    # seed-v1's seed 1 diverges to NaN weights and infinite errors.
    assert run("train", "add", "--seeds", "1", "--steps", "60", "--out", str(tmp_path / "out")).exit_code == 0
    result = run(
        "train",
        "div",
        "--recipe",
        "seed-v1",
        "--first-seed",
        "1",
        "--seeds",
        "1",
        "--json",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    summary = strict_json(result.stdout)
    assert summary["n_diverged"] == 1 and summary["errors"]["train"]["median_first_seed"] is None
    assert summary["final_weights"]["weight_in"] == [[None, None], [None, None]]
    assert strict_json((tmp_path / "out" / "result.json").read_text()) == summary
    assert os.listdir(tmp_path) == ["out"] and sorted(os.listdir(tmp_path / "out")) == [
        "loss.png",
        "result.json",
        "weights.png",
    ]


def test_an_output_directory_holding_other_files_is_refused_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr("arithnet.training.train", lambda *args, **kwargs: pytest.fail("training started"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    output = one_line_error(run("train", "div", "--out", str(out)), tmp_path)
    assert "holds 'notes.txt', which arithnet did not write" in output
    assert os.listdir(out) == ["notes.txt"]


def test_settings_refused_by_the_recipe_leave_nothing_behind(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"operation": "div", "settings": {"lr": -1}}')
    result = run("train", "--config", str(path), "--out", str(tmp_path / "runs" / "out"))
    assert "learning rate must be a finite number above 0" in one_line_error(result, tmp_path)
    assert os.listdir(tmp_path) == ["config.json"]


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("x")
    output = one_line_error(run("train", "div", "--out", str(tmp_path / "out")), tmp_path)
    assert "exists and is not a directory" in output


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


def test_unknown_option_is_one_line():
    result = run("train", "div", "--bogus")
    assert result.output.strip().count("\n") == 0, result.output
    assert result.output.startswith("error: No such option: --bogus")


def test_version():
    from arithnet import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"arithnet {__version__}\n"


def test_python_dash_m_runs_the_command():
    from arithnet import __version__

    done = subprocess.run([sys.executable, "-m", "arithnet", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"arithnet {__version__}\n"


def test_help_shows_defaults():
    wide = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}
    result = runner.invoke(app, ["train", "--help"], env=wide)
    assert result.exit_code == 0
    for text in ("[default: 100]", "[default: the recipe's]", "[default: cpu]", "[default: the library decides]"):
        assert text in result.output, text
    bench = runner.invoke(app, ["bench", "--help"], env=wide)
    assert "[default: 50,000 for input 2, 100,000 otherwise]" in bench.output


def test_config_runs_a_saved_result_again_bit_for_bit(tmp_path):
    first = run("train", "div", "--seeds", "3", "--steps", "120", "--out", str(tmp_path / "A"), "--json")
    assert first.exit_code == 0, first.output
    again = run("train", "--config", str(tmp_path / "A" / "result.json"), "--out", str(tmp_path / "B"), "--json")
    assert again.exit_code == 0, again.output
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert a["config"] == b["config"] and b["config"]["steps"] == 120 and b["config"]["n_seeds"] == 3
    # JSON floats round-trip exactly, so equal values here are equal bits.
    assert a["final_weights"] == b["final_weights"]
    assert a["initial_weights"] == b["initial_weights"]
    assert a["errors"] == b["errors"]
    assert a["solved"] == b["solved"] and a["formula"] == b["formula"]
    assert (tmp_path / "B" / "result.json").exists()


def test_config_takes_a_bare_configuration_object(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"operation": "sub", "n_seeds": 2, "steps": 300}))
    result = run(
        "train", "--config", str(path), "--out", str(tmp_path / "out"), "--json", "--device", "cpu", "--no-compile"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["op"] == "sub" and summary["n_seeds"] == 2 and summary["steps"] == 300
    assert summary["config"]["device"] == "cpu" and summary["config"]["compile"] is False  # these two may be given


def one_line_error(result, tmp_path) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert result.output.startswith("error: ")
    assert not (tmp_path / "out" / "result.json").exists()
    assert not [name for name in os.listdir(tmp_path) if "arithnet-" in name]
    return result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("dir", "is a directory"),
        (b"\xff\xfe\x00binary", "is not a text file"),
        ("operation: div", "is not JSON"),
        ("{}", "is not an arithnet training configuration"),
        ("[1, 2]", "is not an arithnet training configuration"),
        ('"div"', "is not an arithnet training configuration"),
        ('{"config": {}}', "is not an arithnet training configuration"),
        ('{"unit": "NAU", "operation": "add", "task": "primer", "range_name": "7"}', "unknown keys"),
        ('{"operation": "pow"}', "unknown operation 'pow'"),
        ('{"operation": "div", "n_seeds": 0}', "at least 1"),
        ('{"operation": "div", "train_range": "wide"}', "train_range"),
        ('{"operation": "div", "settings": {"n_starts": 1000000000}}', "more than the limit of 1,600,000 networks"),
    ],
)
def test_bad_config_file_gets_one_line_and_exit_code_2(tmp_path, content, message):
    path = tmp_path / "config.json"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = run("train", "--config", str(path), "--out", str(tmp_path / "out"))
    output = one_line_error(result, tmp_path)
    assert str(path) in output and message in output


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["div"], "OPERATION"),
        (["--steps", "50"], "--steps"),
        (["--seeds", "100"], "--seeds"),
        (["--range", "1,2"], "--range"),
    ],
)
def test_config_refuses_settings_that_change_the_result(tmp_path, args, flag):
    path = tmp_path / "config.json"
    path.write_text('{"operation": "div"}')
    output = one_line_error(run("train", *args, "--config", str(path), "--out", str(tmp_path / "out")), tmp_path)
    assert f"--config takes its settings from FILE; do not also give {flag}" in output


def test_operation_or_config_is_needed(tmp_path):
    output = one_line_error(run("train", "--out", str(tmp_path / "out")), tmp_path)
    assert "give an OPERATION" in output


def test_unknown_device(tmp_path):
    output = one_line_error(run("train", "div", "--device", "tpu", "--out", str(tmp_path / "out")), tmp_path)
    assert "unknown device 'tpu'; valid devices: cpu, cuda" in output


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu(tmp_path):
    output = one_line_error(run("train", "div", "--device", "cuda", "--out", str(tmp_path / "out")), tmp_path)
    assert "needs a CUDA GPU" in output
