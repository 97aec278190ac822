"""The four operations: their targets in torch and in sympy, and the series' network for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
import torch


@dataclass(frozen=True)
class Operation:
    """A binary operation a op b, read from inputs (x_a, x_b)."""

    name: str
    symbol: str
    compute: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    #: The unit of the seed post's series that represents it exactly.
    network: str
    #: True when b sits in a denominator, so b = 0 must not be sampled.
    divides: bool = False

    def target(self, x: torch.Tensor, a_index: int = 0, b_index: int = 1) -> torch.Tensor:
        """Target values (..., B) for inputs x of shape (..., B, I)."""
        return self.compute(x[..., a_index], x[..., b_index])

    def expression(self, a: sympy.Expr, b: sympy.Expr) -> sympy.Expr:
        """The target formula in sympy, e.g. a/b for div."""
        return self.compute(a, b)  # the same function on sympy symbols builds the formula


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("add", "+", lambda a, b: a + b, network="LinearNet"),
        Operation("sub", "−", lambda a, b: a - b, network="LinearNet"),
        Operation("mul", "×", lambda a, b: a * b, network="SquareNet"),
        Operation("div", "÷", lambda a, b: a / b, network="LogExp", divides=True),
    )
}


def get_operation(name: str) -> Operation:
    """The operation called ``name``; a ValueError lists the valid names."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown operation {name!r}; valid operations: {', '.join(OPERATIONS)}") from None
