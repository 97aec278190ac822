"""Every operation on every range: the default recipe's scaling and snap-and-verify readout."""

from __future__ import annotations

import copy

import pytest
import torch

from arithnet import Range, TrainConfig, train
from arithnet.operations import get_operation
from arithnet.training.polish import polish_, relative_error
from arithnet.training.recipes.default import input_scale
from arithnet.units import UNITS

# The panel's hardest cells before the range work (issue: 0–50 of 100 solved), 20 seeds each.
HARD = [
    ("div", (1.1, 1.2)),
    ("div", (-1.2, -1.1)),
    ("div", (1e-3, 1e3)),
    ("div", (10, 20)),
    ("div", (-20, -10)),
    ("div", (1e3, 1e6)),
    ("div", (1e-6, 1e-3)),
    ("div", (1e-8, 1e-7)),
    ("div", (1.01, 1.02)),
    ("mul", (1.1, 1.2)),
    ("mul", (-2, -1)),
    ("mul", (-3, 4)),
    # So narrow that (x0 + x1)²/4 is within 1e-9 of x0·x1: the readout must not take it.
    ("mul", (-1.56131e18, -1.56121e18)),
    ("add", (1.1, 1.2)),
    ("sub", (-1.2, -1.1)),
    ("sub", (-3, 4)),
]


@pytest.mark.parametrize(("operation", "ends"), HARD, ids=[f"{op}{ends}" for op, ends in HARD])
def test_default_recipe_solves_every_seed_on_hard_ranges(operation, ends):
    result = train(TrainConfig(operation=operation, n_seeds=20, first_seed=4242, train_range=Range(*ends)))
    assert result.n_solved == 20, [str(f) for f in result.evaluation.formulas]
    for name, errors in result.evaluation.median_error.items():
        assert errors.max() < 1e-6, name


def test_test_sets_scale_with_the_training_range():
    result = train(TrainConfig(operation="div", n_seeds=2, train_range=Range(1e3, 1e6)))
    assert result.evaluation.set_descriptions["x10-x1000"] == "|x| in [1e+07, 1e+09]"


@pytest.mark.parametrize(
    ("ends", "scale"), [((0.1, 10), 1.0), ((-20, -10), -(200**0.5)), ((1e3, 1e6), 10**4.5), ((-3, 4), 4.0)]
)
def test_input_scale_is_the_signed_geometric_mean(ends, scale):
    assert input_scale(Range(*ends)) == pytest.approx(scale, rel=1e-12)


def _near_miss_logexp() -> torch.nn.Module:
    unit = UNITS["LogExp"].build(2, 1, 2, nonnegative_in=True, eps=1e-300).double()
    with torch.no_grad():
        # Seed 0: (x0 + 0.01 x1)^1.9 / (0.02 x0 + x1)^2.1, a near miss of x0/x1.
        # Seed 1: both hidden units read x1, a structure no rounding or refit turns into ÷.
        unit.weight_in.copy_(torch.tensor([[[3.0, 0.03], [0.04, 2.0]], [[0.01, 1.0], [0.02, 1.0]]]))
        unit.weight_out.copy_(torch.tensor([[[1.9, -2.1]], [[0.5, 0.5]]]))
    return unit


def test_readout_turns_a_near_miss_into_the_exact_network_and_leaves_a_wrong_one_alone():
    unit = _near_miss_logexp()
    before = copy.deepcopy(unit)
    x = 10 ** (4 * torch.rand(2, 512, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) - 2)
    polished = polish_(unit, get_operation("div"), x)
    assert polished.tolist() == [True, False]
    torch.testing.assert_close(unit.weight_out[0], torch.tensor([[1.0, -1.0]], dtype=torch.float64), rtol=0, atol=0)
    assert relative_error(unit, get_operation("div"), x)[0] < 1e-14
    for now, then in zip(unit.parameters(), before.parameters()):
        torch.testing.assert_close(now[1], then[1], rtol=0, atol=0)  # never made worse: left as trained


def test_squarenet_canonical_form_keeps_the_function_and_reads_quarter_squares():
    unit = UNITS["SquareNet"].build(2, 1, 1).double()
    with torch.no_grad():  # x0·x1 = ((x0 + 2 x1)² − (x0 − 2 x1)²)/8, another factorisation
        unit.weight_in.copy_(torch.tensor([[[0.5, 1.0], [1.0, -2.0]]]))
        unit.weight_out.copy_(torch.tensor([[[0.5, -0.125]]]))
    x = torch.randn(1, 64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    before = unit(x)
    unit.canonical_()
    torch.testing.assert_close(unit(x), before, rtol=1e-12, atol=1e-12)
    rows = unit.weight_in[0].abs()
    torch.testing.assert_close(rows, torch.ones(2, 2, dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(unit.weight_out.abs()[0, 0], torch.full((2,), 0.25, dtype=torch.float64))
