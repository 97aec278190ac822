"""NAU (Madsen & Johansen, ICLR 2020): a linear layer held to W ∈ [−1, 1] and pushed to {−1, 0, 1}."""

from __future__ import annotations

import math
from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.ramp import RampedRegularization


# -- pure functions -------------------------------------------------------------
def nau(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """z = clamp(W, −1, 1) x: (..., B, I) with (..., O, I) to (..., B, O), in the weight's dtype."""
    return x.to(weight.dtype) @ weight.clamp(-1.0, 1.0).mT


def nau_sparsity(weight: torch.Tensor) -> torch.Tensor:
    """mean(min(|W|, |1 − |W||)) over the last two dims: zero exactly when every W ∈ {−1, 0, 1}.

    Written as stable-nalu writes it (outer abs included) so that the gradient
    is the reference's everywhere, also at the clamp's bounds: abs has gradient
    0 at 0, so W = 0 and |W| = 1 give 0, not ±1 (docs/faithfulness.md).
    """
    magnitude = weight.abs()
    return torch.minimum(magnitude, (1.0 - magnitude).abs()).mean((-2, -1))


# -- unit -------------------------------------------------------------------------
class NAU(RampedRegularization, Unit):
    r"""Neural addition unit, :math:`z = W x` with W clamped to [−1, 1].

    W is clamped in the forward pass and, by ``project_``, in place after every
    optimiser step. The regularizer λ(t)·mean(min(|W|, 1 − |W|)) drives every
    weight to −1, 0 or 1; λ(t) ramps linearly from 0 at ``regularization_start``
    to ``regularization_scale`` at ``regularization_end``.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        regularization_scale: λ̂ (0.01, ICLR 2020).
        regularization_start, regularization_end: the ramp's steps (5e3 → 5e4,
            ICLR 2020; the Primer uses 20k → 35k for 2 inputs, 50k → 75k for 10).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: (O, I) or (S, O, I), U[−r, r] with r = min(0.5, √3·√(2/(I + O)))
            (a Glorot-like variance, capped so that no weight starts near ±1).

    Examples:
        >>> unit = NAU(2, 1)
        >>> unit.load_state_dict(NAU.exact_solution("sub"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[5.0, 3.0]]))
        tensor([[2.]], grad_fn=<MmBackward0>)
    """

    name: ClassVar[str] = "NAU"
    operations: ClassVar[frozenset[str]] = frozenset({"add", "sub"})
    # Adam lr 1e-3 (ICLR 2020, Primer).
    default_lr: ClassVar[float] = 1e-3

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        regularization_scale: float = 0.01,
        regularization_start: int = 5_000,
        regularization_end: int = 50_000,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self._set_ramp(regularization_scale, regularization_start, regularization_end)
        self.weight = self._parameter(out_features, in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        r = min(0.5, math.sqrt(3.0) * math.sqrt(2.0 / (self.in_features + self.out_features)))
        (sampler or Sampler()).uniform_(self.weight, -r, r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nau(x, self.weight)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        return self._like_parameters(self.ramp_weight(step)) * nau_sparsity(self.weight)

    @torch.no_grad()
    def project_(self) -> None:
        self.weight.clamp_(-1.0, 1.0)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        rows = self._weights(self.weight.clamp(-1.0, 1.0), seed_index)
        return [sum((sympy.Float(w) * x for w, x in zip(row, inputs)), sympy.Integer(0)) for row in rows]

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        if operation not in cls.operations or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight = torch.zeros(1, in_features)
        weight[0, :2] = torch.tensor([1.0, 1.0 if operation == "add" else -1.0])
        return {"weight": weight}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, regularization_scale={self.regularization_scale}, "
            f"regularization_start={self.regularization_start}, regularization_end={self.regularization_end}"
        )
