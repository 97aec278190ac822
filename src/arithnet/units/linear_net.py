"""LinearNet: the series' network for + and −, y = W x."""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


class LinearNet(Unit):
    r"""One linear layer without bias, :math:`y = W x`.

    Addition is ``W = [1, 1]``, subtraction ``W = [1, -1]``.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: (O, I) or (S, O, I), initialised U[-1, 1].
    """

    name: ClassVar[str] = "LinearNet"
    operations: ClassVar[frozenset[str]] = frozenset({"add", "sub"})
    default_lr: ClassVar[float] = 1e-2

    def __init__(self, in_features: int, out_features: int, n_seeds: int | None = None) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.weight = self._parameter(out_features, in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        (sampler or Sampler()).uniform_(self.weight, -1.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.mT

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return [sum(sympy.Float(w) * x for w, x in zip(row, inputs)) for row in self._weights(self.weight, seed_index)]

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        weights = {"add": [1.0, 1.0], "sub": [1.0, -1.0]}
        if operation not in weights or in_features != 2:
            raise ValueError(f"LinearNet has no built-in solution for {operation!r} with {in_features} inputs")
        return {"weight": torch.tensor([weights[operation]])}
