"""The ICLR 2020 task: a = Σ x[k:k+25], b = Σ x[k+13:k+38] of 100 inputs, learnt by a stack of two units."""

from __future__ import annotations

import dataclasses
import io
import math

import pytest
import torch
from rich.console import Console

from arithnet.bench.protocol import (
    BenchConfig,
    GroupData,
    applies,
    get_range,
    index_offset,
    run_group,
    run_threshold,
    run_verdicts,
    target_masks,
    threshold,
)
from arithnet.bench.protocol import group as group_module
from arithnet.bench.report import format_rate, markdown_summary, rates_by_criterion, write_report
from arithnet.bench.report.summary import MISSING
from arithnet.cli import bench as cli_bench
from arithnet.operations import get_operation
from arithnet.random import stream_keys

SEEDS = list(range(40))


def test_masks_select_two_overlapping_subsets_of_25_at_the_seeds_offset():
    keys = stream_keys(SEEDS)
    a_mask, b_mask = target_masks("iclr", 100, keys)
    offsets = index_offset(keys, 100 - 37).tolist()
    for k, a_row, b_row in zip(offsets, a_mask, b_mask):
        assert 0 <= k and k + 38 <= 100
        assert torch.nonzero(a_row).flatten().tolist() == list(range(k, k + 25))
        assert torch.nonzero(b_row).flatten().tolist() == list(range(k + 13, k + 38))
        assert float((a_row * b_row).sum()) == 12  # x[k+13 : k+25], shared by both subsets
    assert len(set(offsets)) > 20  # the offset is the seed's, not one for all


def test_group_data_targets_are_the_operation_on_the_two_subset_sums():
    data = GroupData("iclr", 100, [0, 1, 2], [get_range("iclr")] * 3, get_operation("mul"), torch.float32, "cpu")
    offsets = index_offset(stream_keys([0, 1, 2]), 63).tolist()
    x, target = data.batch(1, 16)
    assert x.shape == (3, 16, 100) and target.shape == (3, 16)
    assert float(x.min()) >= 1 and float(x.max()) <= 2  # training range U[1, 2]
    for run, k in enumerate(offsets):
        a = x[run, :, k : k + 25].double().sum(-1)
        b = x[run, :, k + 13 : k + 38].double().sum(-1)
        torch.testing.assert_close(target[run].double(), a * b, rtol=1e-5, atol=0)
    test_x, test_target = data.fixed_set("test", 200)
    assert float(test_x.min()) >= 2 and float(test_x.max()) <= 6  # test range U[2, 6]
    k = offsets[0]
    expected = test_x[0, :, k : k + 25].double().sum(-1) * test_x[0, :, k + 13 : k + 38].double().sum(-1)
    torch.testing.assert_close(test_target[0], expected, rtol=1e-6, atol=0)


@pytest.fixture(scope="module")
def trained_stack():
    """A short run of the ICLR task with NAU>NMU, and the engine's result behind its rows."""
    config = BenchConfig(
        unit="NAU>NMU",
        operation="mul",
        task="iclr",
        input_size=100,
        range_name="iclr",
        steps=200,
        log_every=100,
        n_valid=200,
        n_test=200,
    )
    original, fits = group_module.engine_fit, []

    def recording_fit(*args, **kwargs):
        fits.append(original(*args, **kwargs))
        return fits[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(group_module, "engine_fit", recording_fit)
        rows = run_group([config, config], [0, 1], run_threshold)
    return rows, fits[0]


def test_a_short_run_of_a_stack_returns_one_row_per_run(trained_stack):
    rows, _ = trained_stack
    iclr = threshold("iclr", "mul", "iclr", 100, task="iclr")
    assert [(row.unit, row.task, row.seed) for row in rows] == [("NAU>NMU", "iclr", 0), ("NAU>NMU", "iclr", 1)]
    for row in rows:
        assert row.best_step in (100, 200) and math.isfinite(row.best_val_mse) and math.isfinite(row.best_test_mse)
        assert row.threshold_iclr == iclr and row.threshold_raw == 1e-5
        assert math.isnan(row.threshold_primer) and not row.solved_primer  # undefined on the ICLR task
        assert row.solved_iclr == (row.best_test_mse < iclr)
        assert row.formula and "x" in row.formula
    assert rows[0].key != rows[1].key


def test_both_layers_of_the_stack_are_trained_and_measured(trained_stack):
    rows, fit = trained_stack
    shapes = {name: tuple(p.shape) for name, p in fit.unit.named_parameters()}
    assert shapes == {"first.weight": (2, 2, 100), "second.weight": (2, 1, 2)}
    for name, parameter in fit.unit.named_parameters():
        assert not torch.equal(parameter.detach(), fit.initial[name]), name  # Adam moved both layers
    # The sparsity error is the max over both layers' weights of min(|w|, |1 − |w||).
    for run, row in enumerate(rows):
        worst = max(
            float(torch.minimum(w, (1 - w).abs()).max())
            for w in (p.detach()[run].double().abs() for p in fit.unit.parameters())
        )
        assert row.sparsity_error == pytest.approx(worst, rel=1e-12)


def _primer_row(row):
    """A run of the Primer's task beside the ICLR runs, solved under every criterion."""
    return dataclasses.replace(
        row, key="primer-run", unit="NAU", operation="add", task="primer", range_name="1", threshold_primer=1e-7,
        solved_raw=True, solved_iclr=True, solved_primer=True, solved_at_raw=100, solved_at_iclr=100,
        solved_at_primer=100, formula_exact=True,
    )  # fmt: skip


def test_the_primer_criterion_judges_no_iclr_run_and_reports_show_a_dash(trained_stack, tmp_path, monkeypatch):
    rows, _ = trained_stack
    assert not any(applies(row, "primer") for row in rows) and all(applies(row, "iclr") for row in rows)
    assert [record.criterion for record in run_verdicts(rows[0])] == ["raw", "iclr", "exact"]
    (line,) = rates_by_criterion(rows)
    assert line["n"] == 2 and math.isnan(line["primer"][0]) and format_rate(*line["primer"]) == MISSING
    assert not math.isnan(line["iclr"][0]) and not math.isnan(line["raw"][0])
    # the summary: ICLR runs alone, then beside a Primer run that the criterion does judge
    primer_section = markdown_summary(rows).split("## Criterion primer")[1].split("## ")[0]
    assert "judges none of these runs" in primer_section and "%" not in primer_section
    mixed = markdown_summary([*rows, _primer_row(rows[0])]).split("## Criterion primer")[1].split("## ")[0]
    grid = {}  # the first table: success rate per unit (lines) and operation (columns add, mul)
    for line in mixed.splitlines():
        if line.startswith("| NAU"):
            grid.setdefault(line.split(" | ")[0].strip("| "), line)
    assert f"| {MISSING} |" in grid["NAU>NMU"] and "0.0%" not in grid["NAU>NMU"]
    assert "100.0% [" in grid["NAU"]
    assert "| NAU>NMU | mul | 0 |" not in mixed  # no line of statistics over no judged run
    # the report directory (summary and every criterion's figures) is written all the same
    written = write_report(rows, tmp_path / "report")
    assert (tmp_path / "report" / "success_primer.png") in written
    # the table `arithnet bench` prints when it ends
    output = io.StringIO()
    monkeypatch.setattr(cli_bench, "console", Console(file=output, width=200))
    cli_bench._print_table(rows)
    (table_line,) = [line for line in output.getvalue().splitlines() if "NAU>NMU" in line]
    cells = [cell.strip() for cell in table_line.strip("│ ").split("│")]
    assert cells[:3] == ["NAU>NMU", "mul", "2"] and cells[5] == MISSING and "%" in cells[3] and "%" in cells[4]
