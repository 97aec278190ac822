"""LinearNet: the series' network for + and −, y = W x."""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


def linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """y = W x: (..., B, I) with (..., O, I) to (..., B, O), in the weight's dtype."""
    return x.to(weight.dtype) @ weight.mT


class LinearNet(Unit):
    r"""One linear layer without bias, :math:`y = W x`.

    Addition is ``W = [1, 1]``, subtraction ``W = [1, -1]``.

    Capabilities (``units.capabilities``): ``Refit`` (the readout).

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: (O, I) or (S, O, I), initialised U[-1, 1].

    Examples:
        >>> unit = LinearNet(2, 1)
        >>> unit.load_state_dict(LinearNet.exact_solution("sub"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[5.0, 3.0]]))
        tensor([[2.]], grad_fn=<MmBackward0>)
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
        return linear(x, self.weight)

    @torch.no_grad()
    def refit_(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """W by least squares on the samples: exact where an exact W exists, however narrow the range."""
        solution = torch.linalg.lstsq(x.double(), target.double()).solution  # (S, I, O)
        self.weight.copy_(solution.mT.to(self.weight.dtype))

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return [sum(sympy.Float(w) * x for w, x in zip(row, inputs)) for row in self._weights(self.weight, seed_index)]

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """W = [1, ±1, 0, …]: the inputs after the first two are ignored."""
        if operation not in cls.operations or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight = torch.zeros(1, in_features)
        weight[0, 0], weight[0, 1] = 1.0, (1.0 if operation == "add" else -1.0)
        return {"weight": weight}
