"""SquareNet: the series' network for ×, y = W_out · (W_in · x)²."""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


def square_net(x: torch.Tensor, weight_in: torch.Tensor, weight_out: torch.Tensor) -> torch.Tensor:
    return (x @ weight_in.mT).square() @ weight_out.mT


class SquareNet(Unit):
    r"""Linear map, square, linear map: the quarter-squares network.

    .. math:: y = W_{out} (W_{in} x)^{\circ 2}

    Multiplication by quarter squares, ab = ((a + b)² − (a − b)²) / 4:
    ``W_in = [[1, 1], [1, -1]]`` and ``W_out = [1/4, -1/4]``.

    Args:
        in_features: I. out_features: O. hidden_features: H (default I).
        n_seeds: S independent copies, or None.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_in: (H, I), U[-1, 1]. weight_out: (O, H), U[-1, 1].
    """

    name: ClassVar[str] = "SquareNet"
    operations: ClassVar[frozenset[str]] = frozenset({"mul"})
    default_lr: ClassVar[float] = 1e-2

    def __init__(
        self, in_features: int, out_features: int, hidden_features: int | None = None, n_seeds: int | None = None
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.hidden_features = hidden_features or in_features
        self.weight_in = self._parameter(self.hidden_features, in_features)
        self.weight_out = self._parameter(out_features, self.hidden_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        sampler.uniform_(self.weight_in, -1.0, 1.0)
        sampler.uniform_(self.weight_out, -1.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return square_net(x, self.weight_in, self.weight_out)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        rows = self._weights(self.weight_in, seed_index)
        outputs = self._weights(self.weight_out, seed_index)
        squares = [sum(sympy.Float(w) * x for w, x in zip(row, inputs)) ** 2 for row in rows]
        return [sum(sympy.Float(w) * s for w, s in zip(row, squares)) for row in outputs]

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        if operation != "mul" or in_features != 2:
            raise ValueError(f"SquareNet has no built-in solution for {operation!r} with {in_features} inputs")
        return {"weight_in": torch.tensor([[1.0, 1.0], [1.0, -1.0]]), "weight_out": torch.tensor([[0.25, -0.25]])}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, hidden_features={self.hidden_features}"
