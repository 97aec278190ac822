"""NMU (Madsen & Johansen, ICLR 2020): z_o = ∏_i (W_oi x_i + 1 − W_oi) with W ∈ [0, 1]."""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.ramp import RampedRegularization


# -- pure functions -------------------------------------------------------------
def nmu(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """z_o = ∏_i (W_oi x_i + 1 − W_oi): W_oi = 1 takes x_i in, W_oi = 0 leaves a factor 1.

    (..., B, I) with (..., O, I) to (..., B, O). torch's product backward is
    exact when a factor is zero, so zero inputs give finite gradients.
    """
    x = x.to(weight.dtype)
    weight = weight.unsqueeze(-3)  # (..., 1, O, I)
    # W x + (1 − W), not (W x + 1) − W: with W = 1 the factor is then x exactly.
    return (weight * x.unsqueeze(-2) + (1.0 - weight)).prod(-1)


def nmu_sparsity(weight: torch.Tensor) -> torch.Tensor:
    """mean(min(|W|, |1 − W|)) over the last two dims: zero exactly when every W ∈ {0, 1}.

    stable-nalu's form, abs included: equal to min(W, 1 − W) on [0, 1], and its
    gradient is 0 (not ±λ/n) at the clamp's bounds W = 0 and W = 1, as in the
    reference (docs/faithfulness.md).
    """
    return torch.minimum(weight.abs(), (1.0 - weight).abs()).mean((-2, -1))


# -- unit -------------------------------------------------------------------------
class NMU(RampedRegularization, Unit):
    r"""Neural multiplication unit, :math:`z_o = \prod_i (W_{oi} x_i + 1 - W_{oi})`.

    W is clamped to [0, 1] in place after every optimiser step (``project_``);
    the forward pass uses W as it is, as in the paper. The regularizer
    λ(t)·mean(min(W, 1 − W)) drives every weight to 0 or 1, with λ(t) ramping
    linearly from 0 at ``regularization_start`` to ``regularization_scale`` at
    ``regularization_end``. Signs come out right: x0·x1 is W = [1, 1].

    No clamp guards the product: with W ∈ [0, 1] each factor is at most
    |x_i| + 1 in magnitude, so it overflows only where ∏ (|x_i| + 1) does.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        regularization_scale: λ̂ (10, ICLR 2020).
        regularization_start, regularization_end: the ramp's steps (1e6 → 2e6,
            ICLR 2020; the Primer uses 20k → 35k for 2 inputs, 50k → 75k for 10).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: (O, I) or (S, O, I), U[0.25, 0.75] (ICLR 2020: E[W] = 1/2 and a
            small variance, away from both 0 and 1).

    Examples:
        >>> unit = NMU(2, 1)
        >>> unit.load_state_dict(NMU.exact_solution("mul"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-2.0, 3.0]]))
        tensor([[-6.]], grad_fn=<ProdBackward1>)
    """

    name: ClassVar[str] = "NMU"
    operations: ClassVar[frozenset[str]] = frozenset({"mul"})
    # Adam lr 1e-3 (ICLR 2020, Primer).
    default_lr: ClassVar[float] = 1e-3

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        regularization_scale: float = 10.0,
        regularization_start: int = 1_000_000,
        regularization_end: int = 2_000_000,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self._set_ramp(regularization_scale, regularization_start, regularization_end)
        self.weight = self._parameter(out_features, in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        (sampler or Sampler()).uniform_(self.weight, 0.25, 0.75)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nmu(x, self.weight)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        return self._like_parameters(self.ramp_weight(step)) * nmu_sparsity(self.weight)

    @torch.no_grad()
    def project_(self) -> None:
        self.weight.clamp_(0.0, 1.0)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return [
            sympy.Mul(*[sympy.Float(w) * x + sympy.Float(1.0 - w) for w, x in zip(row, inputs)])
            for row in self._weights(self.weight, seed_index)
        ]

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        if operation not in cls.operations or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight = torch.zeros(1, in_features)
        weight[0, :2] = 1.0
        return {"weight": weight}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, regularization_scale={self.regularization_scale}, "
            f"regularization_start={self.regularization_start}, regularization_end={self.regularization_end}"
        )
