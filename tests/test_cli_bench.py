"""``arithnet bench``: a small grid end to end, resuming, and bad input."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from arithnet.cli import app

runner = CliRunner()
SMALL = [
    "bench",
    "--units",
    "LogExp-direct",
    "--ops",
    "div",
    "--input-size",
    "10",
    "--ranges",
    "6-7",
    "--seeds",
    "2",
    "--steps",
    "1500",
    "--loss",
    "log",
    "--lr",
    "0.05",
    "--lr-schedule",
    "cosine",
    "--jobs",
    "1",
]


def test_small_grid_writes_rows_report_and_resumes(tmp_path):
    store, report = tmp_path / "results.sqlite", tmp_path / "report"
    first = runner.invoke(app, [*SMALL, "--store", str(store), "--report", str(report)])
    assert first.exit_code == 0, first.output
    assert "4 runs, 0 already" in first.output and "LogExp" in first.output
    assert (report / "summary.md").exists() and (report / "success_raw.png").exists()
    again = runner.invoke(app, [*SMALL, "--store", str(store), "--report", str(report)])
    assert again.exit_code == 0
    assert "4 runs, 4 already in" in again.output and "0 to train" in again.output


def run_bad(tmp_path, *args):
    result = runner.invoke(app, [*args, "--store", str(tmp_path / "s.sqlite"), "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0, result.output
    return result.output


def test_unknown_names_list_the_valid_ones(tmp_path):
    assert "valid units:" in run_bad(tmp_path, "bench", "--units", "Foo", "--ops", "div")
    assert "valid operations:" in run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "pow")
    assert "valid tasks:" in run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "mul", "--task", "tsp")
    assert "valid ranges:" in run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "mul", "--ranges", "42")


def test_unit_that_cannot_do_the_operation_is_refused(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NMU", "--ops", "div")
    assert "NMU cannot represent div" in output and "--force" in output


def test_foreign_store_is_refused_and_left_alone(tmp_path):
    foreign = tmp_path / "s.sqlite"
    foreign.write_text("my lab notes\n")
    output = run_bad(tmp_path, *SMALL)
    assert "is not an arithnet results store" in output
    assert foreign.read_text() == "my lab notes\n"


def test_bad_unit_options_are_refused(tmp_path):
    nau = ["bench", "--units", "NAU", "--ops", "add"]
    assert "must be NAME=VALUE" in run_bad(tmp_path, *nau, "--option", "oops")
    assert "bad unit option for NAU" in run_bad(tmp_path, *nau, "--option", "foo=1")


def test_bad_unit_option_values_are_refused_not_kept_as_text(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--option", "regularization_scale=abc")
    assert "unit option regularization_scale=abc" in output and "quote a string" in output


def test_inverted_range_span(tmp_path):
    output = run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--ranges", "9-1")
    assert "range 9-1 is inverted: write 1-9" in output


def test_zero_steps_seeds_and_jobs_are_refused(tmp_path):
    assert "steps" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--steps", "0")
    assert "seeds" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--seeds", "0")
    assert "jobs" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--jobs", "0")


def test_missing_units_is_one_line(tmp_path):
    assert "Missing option '--units'" in run_bad(tmp_path, "bench", "--ops", "add")


def test_unknown_device(tmp_path):
    assert "valid devices: cpu, cuda" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--device", "tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu(tmp_path):
    assert "needs a CUDA GPU" in run_bad(tmp_path, "bench", "--units", "NAU", "--ops", "add", "--device", "cuda")
