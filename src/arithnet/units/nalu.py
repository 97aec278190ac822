"""NALU (Trask et al., NeurIPS 2018) and G-NALU, its golden-ratio variant.

A gate g = σ(G x) mixes NAC+ and NAC• that share one weight W. G-NALU takes
tanh and σ in base φ (the golden ratio), which is the same as multiplying
their arguments by ln φ ≈ 0.481.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.nac import linear_expression, nac_add, nac_mul, nac_uniform_bound, nac_weight, power_expression

#: ln φ: σ_φ(u) = 1 / (1 + φ^(−u)) = σ(u·ln φ), and likewise tanh_φ(u) = tanh(u·ln φ).
GOLDEN_SCALE = math.log((1.0 + math.sqrt(5.0)) / 2.0)


def nalu(
    x: torch.Tensor,
    weight_hat: torch.Tensor,
    mask_hat: torch.Tensor,
    gate_weight: torch.Tensor,
    eps: float,
    scale: float = 1.0,
) -> torch.Tensor:
    """y = g ⊙ (W x) + (1 − g) ⊙ exp(W · log(|x| + ε)), g = σ(scale·G x), W = tanh(scale·Ŵ) ⊙ σ(scale·M̂)."""
    x = x.to(weight_hat.dtype)
    weight = nac_weight(weight_hat, mask_hat, scale)
    gate = torch.sigmoid(scale * (x @ gate_weight.mT))  # (..., B, O)
    return gate * nac_add(x, weight) + (1.0 - gate) * nac_mul(x, weight, eps)


class NALU(Unit):
    r"""Neural arithmetic logic unit: an input-dependent gate between NAC+ and NAC•.

    .. math:: y = g \odot (W x) + (1 - g) \odot \exp\big(W \log(|x| + \varepsilon)\big),
              \quad g = \sigma(G x), \quad W = \tanh(\hat W) \odot \sigma(\hat M)

    The gate has no bias, so g = σ(0) = 1/2 at x = 0 whatever G: no NALU
    computes any of the four operations exactly, and ``operations`` is empty
    (``exact_solution`` always raises). The product path loses the sign of x.
    log of the product path is clamped at 60 before exp, as in NAC•.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        eps: ε inside the logarithm (1e-7).
        golden: G-NALU: tanh and σ in base φ, i.e. Ŵ, M̂ and G x scaled by
            ln φ. The initial distributions stay those of NALU.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_hat, mask_hat: Ŵ and M̂, (O, I) or (S, O, I), U[−r, r] as in NAC
            (fan·Var(W) = 2, fan = max(I + O, 5)).
        gate_weight: G, (O, I) or (S, O, I), Xavier-uniform U[±√(6/(I + O))].
    """

    name: ClassVar[str] = "NALU"
    operations: ClassVar[frozenset[str]] = frozenset()
    # Adam lr 1e-3, as in ICLR 2020 and the Primer for every NALM but the NPUs.
    default_lr: ClassVar[float] = 1e-3
    handles_signs: bool = False
    variants: ClassVar[dict[str, dict[str, Any]]] = {"G-NALU": {"golden": True}}

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        eps: float = 1e-7,
        golden: bool = False,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.eps = eps
        self.golden = golden
        self.scale = GOLDEN_SCALE if golden else 1.0
        self.weight_hat = self._parameter(out_features, in_features)
        self.mask_hat = self._parameter(out_features, in_features)
        self.gate_weight = self._parameter(out_features, in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        r = nac_uniform_bound(self.in_features, self.out_features)
        sampler.uniform_(self.weight_hat, -r, r)
        sampler.uniform_(self.mask_hat, -r, r)
        bound = math.sqrt(6.0 / (self.in_features + self.out_features))  # Xavier-uniform, gain 1
        sampler.uniform_(self.gate_weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nalu(x, self.weight_hat, self.mask_hat, self.gate_weight, self.eps, self.scale)

    @property
    def weight(self) -> torch.Tensor:
        """The effective shared weight W, (O, I) or (S, O, I)."""
        return nac_weight(self.weight_hat, self.mask_hat, self.scale)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """g·(W x) + (1 − g)·∏ (x_i + ε)^{W_i}, the product path written for positive x."""
        with torch.no_grad():
            weight = nac_weight(self.weight_hat.double(), self.mask_hat.double(), self.scale)
        gates = self._weights(self.gate_weight, seed_index)
        outputs = []
        for row, gate_row in zip(self._weights(weight, seed_index), gates):
            gate = 1 / (1 + sympy.exp(-sympy.Float(self.scale) * linear_expression(gate_row, inputs)))
            outputs.append(gate * linear_expression(row, inputs) + (1 - gate) * power_expression(row, inputs, self.eps))
        return outputs

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """Always a ValueError: see the class docstring."""
        raise ValueError(
            f"{cls.name} has no exact solution for {operation!r}: its gate σ(G x) is 1/2 at x = 0 for every G"
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}, golden={self.golden}"
