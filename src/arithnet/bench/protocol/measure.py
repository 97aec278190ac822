"""What is measured of a benchmark network: MSE on a fixed set, sparsity error, formula."""

from __future__ import annotations

import math

import sympy
import torch

from arithnet.formula import judge, rounded_formula
from arithnet.operations import Operation
from arithnet.units import Unit

_EVAL_CHUNK = 2_000  # samples per evaluation chunk: bounds memory at 10,000 samples × 225 runs


@torch.no_grad()
def fixed_set_mse(unit: Unit, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error (N,) on a fixed set, in float64, evaluated in chunks; NaN counts as infinite."""
    total = torch.zeros(inputs.shape[0], dtype=torch.float64, device=inputs.device)
    for start in range(0, inputs.shape[1], _EVAL_CHUNK):
        output = unit(inputs[:, start : start + _EVAL_CHUNK])[..., 0].double()
        total += (output - targets[:, start : start + _EVAL_CHUNK]).square().sum(1)
    return torch.nan_to_num(total / inputs.shape[1], nan=math.inf)


def sparsity_errors(unit: Unit, n: int) -> torch.Tensor:
    """max over weights of min(|W|, |1 − |W||) per network (the Primer's sparsity error)."""
    worst = torch.zeros(n, dtype=torch.float64)
    for weight in unit.sparsity_weights():
        magnitude = weight.detach().double().cpu().reshape(n, -1).abs()
        worst = torch.maximum(worst, torch.minimum(magnitude, (1 - magnitude).abs()).max(1).values)
    return worst


def formula_verdicts(
    unit: Unit, operation: Operation, input_size: int, masks: tuple[torch.Tensor, torch.Tensor]
) -> list[tuple[str, bool]]:
    """(formula, exact) per network from the rounded weights at the best step.

    Exact means: equal to the target symbolically, and no input used beyond
    the operands' own (no distractor, no cancelling x·(1/x) pair). The operands'
    inputs count even where they cancel in the target itself: in the ICLR
    task's a − b, the inputs shared by a and b.
    """
    symbols = list(sympy.symbols(f"x0:{input_size}", real=True))
    results = []
    for i in range(len(masks[0])):
        a = sum(symbol for symbol, in_a in zip(symbols, masks[0][i].tolist()) if in_a)
        b = sum(symbol for symbol, in_b in zip(symbols, masks[1][i].tolist()) if in_b)
        target = operation.expression(a, b)
        rounded, used = rounded_formula(unit, i)[0]
        formula, exact = judge(rounded, target)
        text = str(formula)
        extra = used - (a.free_symbols | b.free_symbols)
        if exact and extra:  # algebra hides them: say so in the formula
            exact = False
            text += (
                f"  [the rounded weights also use {', '.join(sorted(str(symbol) for symbol in extra))}, which cancel]"
            )
        results.append((text, bool(exact)))
    return results
