"""The ICLR 2020 task: a = Σ x[k:k+25], b = Σ x[k+13:k+38] of 100 inputs, learnt by a stack of two units."""

from __future__ import annotations

import math

import pytest
import torch

from arithnet.bench.protocol import (
    BenchConfig,
    GroupData,
    get_range,
    index_offset,
    run_group,
    run_threshold,
    target_masks,
    threshold,
)
from arithnet.bench.protocol import group as group_module
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
