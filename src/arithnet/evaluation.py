"""Deciding whether each seed is solved: extrapolation errors and the exact formula."""

from __future__ import annotations

from dataclasses import dataclass

import sympy
import torch

from arithnet.data import Range, evaluation_sets
from arithnet.formula import input_symbols, judge, rounded_formula
from arithnet.operations import Operation
from arithnet.units import Unit

#: A seed is solved when its median relative error is below this on every test set.
ERROR_TOLERANCE = 1e-6
#: A weight beyond this magnitude (or not finite) marks a diverged seed: no
#: formula of the four operations needs one anywhere near it.
DIVERGED_MAGNITUDE = 1e4


@dataclass
class Evaluation:
    """Per-seed verdicts; tensors have shape (S,)."""

    set_descriptions: dict[str, str]
    median_error: dict[str, torch.Tensor]
    max_error: dict[str, torch.Tensor]
    formulas: list[sympy.Expr]
    exact: torch.Tensor
    diverged: torch.Tensor
    solved: torch.Tensor


def relative_errors(unit: Unit, operation: Operation, inputs: torch.Tensor) -> torch.Tensor:
    """|y − t| / |t| for every seed and sample, (S, B), in float64; NaN counts as infinite."""
    was_training = unit.training
    unit.eval()  # units such as NRU and NMRU have an exact evaluation mode
    with torch.no_grad():
        output = unit.double()(inputs.double())[..., 0]
    unit.train(was_training)
    target = operation.target(inputs.double())
    error = (output - target).abs() / target.abs().clamp_min(1e-300)
    return torch.nan_to_num(error, nan=torch.inf)


def read_formulas(unit: Unit, operation: Operation) -> tuple[list[sympy.Expr], torch.Tensor]:
    """Every seed's formula from its rounded weights, and whether it is exactly the target."""
    inputs = input_symbols(unit.in_features)
    target = operation.expression(inputs[0], inputs[1])
    formulas, exact = [], []
    for index in range(unit.n_seeds or 1):
        formula, ok = judge(rounded_formula(unit, index)[0][0], target)
        formulas.append(formula)
        exact.append(ok)
    return formulas, torch.tensor(exact)


def diverged_seeds(unit: Unit) -> torch.Tensor:
    flags = torch.zeros(unit.n_seeds or 1, dtype=torch.bool)
    for parameter in unit.parameters():
        values = parameter.detach().reshape(len(flags), -1)
        flags |= ~torch.isfinite(values).all(1) | (values.abs() > DIVERGED_MAGNITUDE).any(1)
    return flags


def evaluate(unit: Unit, operation: Operation, train_range: Range) -> Evaluation:
    """Errors on the fixed test sets, formulas, and the solved verdict of every seed."""
    median, maximum, descriptions = {}, {}, {}
    for evaluation_set in evaluation_sets(train_range, unit.in_features):
        error = relative_errors(unit, operation, evaluation_set.inputs)
        median[evaluation_set.name] = error.median(-1).values
        maximum[evaluation_set.name] = error.max(-1).values
        descriptions[evaluation_set.name] = evaluation_set.description
    diverged = diverged_seeds(unit)
    formulas, exact = read_formulas(unit, operation)
    accurate = torch.stack([m < ERROR_TOLERANCE for m in median.values()]).all(0)
    return Evaluation(descriptions, median, maximum, formulas, exact, diverged, accurate & exact & ~diverged)
