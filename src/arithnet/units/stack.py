"""Stack: two units one after the other, itself a unit (the ICLR task's two layers)."""

from __future__ import annotations

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


class Stack(Unit):
    """``second(first(x))``, with both units' penalties, projections and formulas.

    Args:
        first: the unit reading the inputs, (…, B, I) → (…, B, H).
        second: the unit reading its outputs, (…, B, H) → (…, B, O).
    """

    name = "Stack"
    operations = frozenset({"add", "sub", "mul", "div"})

    def __init__(self, first: Unit, second: Unit) -> None:
        if first.out_features != second.in_features or first.n_seeds != second.n_seeds:
            raise ValueError("the units of a stack must agree on the hidden size and the number of seeds")
        super().__init__(first.in_features, second.out_features, first.n_seeds)
        self.first = first
        self.second = second
        self.default_lr = first.default_lr
        self.stall_window = max(first.stall_window, second.stall_window)

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        self.first.reset_parameters(sampler)
        self.second.reset_parameters(sampler)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))

    def regularization(self, step: int) -> torch.Tensor:
        return self.first.regularization(step) + self.second.regularization(step)

    @torch.no_grad()
    def project_(self) -> None:
        self.first.project_()
        self.second.project_()

    def observe_interpolation_mse(self, mse: torch.Tensor) -> None:
        self.first.observe_interpolation_mse(mse)
        self.second.observe_interpolation_mse(mse)

    def stalled(self, losses: torch.Tensor, step: int) -> torch.Tensor:
        return self.first.stalled(losses, step) | self.second.stalled(losses, step)

    def sparsity_weights(self) -> list[torch.Tensor]:
        return self.first.sparsity_weights() + self.second.sparsity_weights()

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return self.second.expression(self.first.expression(inputs, seed_index), seed_index)

    def extra_repr(self) -> str:
        return ""
