"""The benchmark's exact-formula criterion (bench/protocol/measure.py ``formula_verdicts``) on weights set by hand."""

from __future__ import annotations

import pytest
import torch

from arithnet.bench.protocol import BenchConfig, build_model, formula_verdicts, target_masks
from arithnet.operations import get_operation
from arithnet.random import stream_keys
from arithnet.units import UNITS, Unit

NEAR_ONE, NEAR_ZERO = 1 - 3e-6, 2e-6  # trained weights: they round to 1 and 0


def one_hot_masks(positions: list[tuple[int, int]], input_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(a_mask, b_mask) (N, I) for runs whose a and b are single inputs x_a, x_b."""
    a, b = torch.zeros(len(positions), input_size), torch.zeros(len(positions), input_size)
    for run, (a_index, b_index) in enumerate(positions):
        a[run, a_index] = b[run, b_index] = 1.0
    return a.double(), b.double()


@pytest.mark.parametrize("name", ["NMRU", "NMRU-vanilla"])
def test_nmru_with_a_cancelling_pair_is_not_exact(name):
    input_size = 4
    unit = UNITS[name].build(input_size, 1, 2).double().eval()
    weight = torch.full((2, 1, 2 * input_size), NEAR_ZERO, dtype=torch.float64)
    # Columns 0..3 read x0..x3, columns 4..7 their reciprocals. Run 0: x1·(1/x2) and the pair x3·(1/x3),
    # which algebra cancels; run 1: x0·(1/x1) alone.
    weight[0, 0, [1, input_size + 2, 3, input_size + 3]] = NEAR_ONE
    weight[1, 0, [0, input_size + 1]] = NEAR_ONE
    with torch.no_grad():
        unit.weight.copy_(weight)
    masks = one_hot_masks([(1, 2), (0, 1)], input_size)
    (cancelling, cancelling_exact), (clean, clean_exact) = formula_verdicts(
        unit, get_operation("div"), input_size, masks
    )
    assert not cancelling_exact
    assert cancelling == "x1/x2  [the rounded weights also use x3, which cancel]"
    assert clean_exact and clean == "x0/x1"


def iclr_stack(unit: str, operation: str, keys: torch.Tensor) -> tuple[Unit, tuple[torch.Tensor, torch.Tensor]]:
    """A stack built as the ICLR task builds it, first layer set to the runs' own subsets, second exact."""
    config = BenchConfig(unit=unit, operation=operation, task="iclr", input_size=100, range_name="iclr")
    stack = build_model(config, len(keys)).double().eval()
    masks = target_masks("iclr", 100, keys)
    exact = type(stack.second).exact_solution(operation, 2)
    with torch.no_grad():
        stack.first.weight.copy_(torch.stack(masks, 1))  # row 0 sums a's subset, row 1 b's
        for key, value in exact.items():
            getattr(stack.second, key).copy_(value.double().expand_as(getattr(stack.second, key)))
    return stack, masks


@pytest.mark.parametrize(
    ("unit", "operation"),
    [
        ("NAU>NMU", "mul"),
        ("NAU>NAU", "add"),
        ("NAU>NMRU", "div"),
        pytest.param(
            "NAU>NAU",
            "sub",
        ),
    ],
)
def test_stack_with_exact_weights_reads_the_exact_iclr_formula(unit, operation):
    keys = stream_keys([0, 1, 2])
    stack, masks = iclr_stack(unit, operation, keys)
    formulas = formula_verdicts(stack, get_operation(operation), 100, masks)
    assert [exact for _, exact in formulas] == [True, True, True]
    for (text, _), a_mask in zip(formulas, masks[0]):
        first = int(a_mask.argmax())
        assert f"x{first} + x{first + 1}" in text and "cancel" not in text


def test_stack_with_a_distractor_in_its_first_layer_is_not_exact():
    keys = stream_keys([0])
    stack, masks = iclr_stack("NAU>NMU", "mul", keys)
    outside = int(masks[0][0].argmax()) - 1 if int(masks[0][0].argmax()) > 0 else 99
    with torch.no_grad():
        stack.first.weight[0, 0, outside] = NEAR_ONE
    [(text, exact)] = formula_verdicts(stack, get_operation("mul"), 100, masks)
    assert not exact and f"x{outside}" in text
