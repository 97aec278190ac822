"""SquareNet: the series' network for ×, y = W_out · (W_in · x)²."""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


def square_net(x: torch.Tensor, weight_in: torch.Tensor, weight_out: torch.Tensor) -> torch.Tensor:
    """y = W_out (W_in x)²: (..., B, I) to (..., B, O), in the weights' dtype."""
    return (x.to(weight_in.dtype) @ weight_in.mT).square() @ weight_out.mT


class SquareNet(Unit):
    r"""Linear map, square, linear map: the quarter-squares network.

    .. math:: y = W_{out} (W_{in} x)^{\circ 2}

    Multiplication by quarter squares, ab = ((a + b)² − (a − b)²) / 4:
    ``W_in = [[1, 1], [1, -1]]`` and ``W_out = [1/4, -1/4]``.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        hidden_features: H (default I).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_in: (H, I) or (S, H, I), U[-1, 1]. weight_out: (O, H) or (S, O, H), U[-1, 1].

    Examples:
        >>> unit = SquareNet(2, 1).double()
        >>> unit.load_state_dict(SquareNet.exact_solution("mul"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-18.]], dtype=torch.float64, grad_fn=<MmBackward0>)
    """

    name: ClassVar[str] = "SquareNet"
    operations: ClassVar[frozenset[str]] = frozenset({"mul"})
    default_lr: ClassVar[float] = 1e-2

    def __init__(
        self, in_features: int, out_features: int, n_seeds: int | None = None, *, hidden_features: int | None = None
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
    def exact_solution(
        cls, operation: str, in_features: int = 2, *, hidden_features: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Quarter squares of x0 and x1; further inputs and hidden rows get zero weights."""
        hidden = hidden_features or in_features
        if operation not in cls.operations or in_features < 2 or hidden < 2:
            raise cls._no_solution(operation, in_features)
        weight_in = torch.zeros(hidden, in_features)
        weight_in[:2, :2] = torch.tensor([[1.0, 1.0], [1.0, -1.0]])
        weight_out = torch.zeros(1, hidden)
        weight_out[0, :2] = torch.tensor([0.25, -0.25])
        return {"weight_in": weight_in, "weight_out": weight_out}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, hidden_features={self.hidden_features}"
