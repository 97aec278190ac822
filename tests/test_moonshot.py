"""RatioNet with the projected loss learns ÷ of two sums on the ICLR 100-input task exactly (docs/moonshot.md)."""

from __future__ import annotations

import torch

from arithnet.bench.protocol import BenchConfig, run_group, run_threshold
from arithnet.engine.losses import projected
from arithnet.random import stream_keys
from arithnet.training.rules import RatioSnap
from arithnet.units import RatioNet, Sampler


def test_four_seeds_learn_division_of_two_sums_exactly():
    config = BenchConfig(
        unit="RatioNet",
        operation="div",
        task="iclr",
        input_size=100,
        range_name="iclr",
        steps=2_000,
        loss="projected",
        lr_schedule="cosine",
        n_valid=2_000,
        n_test=2_000,
        compile=False,
    )
    rows = run_group([config] * 4, [0, 1, 2, 3], run_threshold)
    assert all(row.formula_exact for row in rows), [row.formula for row in rows]
    assert all(row.solved_iclr and row.best_test_mse < 1e-13 for row in rows)
    assert all(row.sparsity_error == 0.0 for row in rows)


def ratio_batch(n_seeds: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(n_seeds, 64, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1.0
    return x, (x[..., 0] + x[..., 1]) / (x[..., 1] + x[..., 2])


def test_projected_solves_the_numerator_for_any_denominator_at_the_true_one():
    unit = RatioNet(6, 1, 2).double()
    with torch.no_grad():
        unit.weight_den.copy_(torch.tensor([0.0, 3.0, 3.0, 0.0, 0.0, 0.0]).expand(2, 1, 6))
        unit.power.fill_(-1.0)
    x, target = ratio_batch()
    assert projected(unit, x, target).max() < 1e-16  # the ridge alone
    unit.project_()  # keeps the solution, rescales v to max 1 (u follows)
    RatioSnap().after_step(unit, 1)  # the rule after the step: snaps all three
    assert unit.weight_num[0, 0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert unit.weight_den[0, 0].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    torch.testing.assert_close(unit(x)[..., 0], target, rtol=1e-14, atol=0)


def test_the_linear_start_is_not_snapped():
    unit = RatioNet(6, 1, 2).double()
    unit.reset_parameters(Sampler(stream_keys([0, 1])))
    x, target = ratio_batch()
    projected(unit, x, target)
    with torch.no_grad():
        unit.power.fill_(0.01)  # near the integer 0, but v is still dense: nothing is snapped
    unit.project_()
    RatioSnap().after_step(unit, 1)
    assert (unit.power == 0.01).all()
