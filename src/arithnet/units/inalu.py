"""iNALU (Schlör, Ring & Hotho, Frontiers in AI 2020): NALU with separate weights and sign.

Compared with NALU: the adding and multiplying paths have their own weights,
the product path recovers the sign of the result and clamps its exponent,
the gate does not depend on x, a regularizer pushes every parameter away
from zero, and gradients are clipped. The paper also starts a seed whose loss
stalls again from fresh weights: a training rule, not the unit's maths, which
lives in ``arithnet.training.rules.inalu``.
"""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.nac import EXACT_SIGMOID, EXACT_TANH, linear_expression, nac_add, nac_weight

#: |x| is floored at this value inside the logarithm (iNALU, instead of NALU's + ε).
INPUT_FLOOR = 1e-7
#: The product path's exponent is clamped at 20 (iNALU): exp(20) ≈ 4.85e8.
MUL_LOG_MAX = 20.0


# -- pure functions -------------------------------------------------------------
def inalu_sign(x: torch.Tensor, mul_weight: torch.Tensor) -> torch.Tensor:
    """∏_i (sign(x_i)·|W_i| + 1 − |W_i|): the sign of ∏ x_i^{W_i} for W_i ∈ {−1, 0, 1}, (..., B, O)."""
    magnitude = mul_weight.abs().unsqueeze(-3)  # (..., 1, O, I)
    signs = torch.sign(x).unsqueeze(-2)  # (..., B, 1, I)
    return (signs * magnitude + (1.0 - magnitude)).prod(-1)


def inalu_product(x: torch.Tensor, mul_weight: torch.Tensor) -> torch.Tensor:
    """m = exp(min(W · log(max(|x|, 1e-7)), 20)), finite with finite gradients for any finite x."""
    log_magnitude = torch.log(x.abs().clamp_min(INPUT_FLOOR)) @ mul_weight.mT
    return torch.exp(log_magnitude.clamp_max(MUL_LOG_MAX))


def inalu(x: torch.Tensor, add_weight: torch.Tensor, mul_weight: torch.Tensor, gate_hat: torch.Tensor) -> torch.Tensor:
    """y = g·(W_a x) + (1 − g)·m·sign with g = σ(ĝ) per output, independent of x."""
    x = x.to(add_weight.dtype)
    gate = torch.sigmoid(gate_hat).unsqueeze(-2)  # (..., 1, O)
    product = inalu_product(x, mul_weight) * inalu_sign(x, mul_weight)
    return gate * nac_add(x, add_weight) + (1.0 - gate) * product


def signed_product_expression(row: list[float], inputs: list[sympy.Symbol]) -> sympy.Expr:
    """∏_i |x_i|^{W_i}·(sign(x_i)|W_i| + 1 − |W_i|), with sign(x) written x/|x|.

    x/|x| equals sign(x) for x ≠ 0 and lets sympy merge |x|·sign(x) into x, so
    the exact solution reads x0·x1 rather than a piecewise expression.
    """
    factors = []
    for w, x in zip(row, inputs):
        sign = x / sympy.Abs(x) * sympy.Float(abs(w)) + sympy.Float(1.0 - abs(w))
        factors.append(sympy.Abs(x) ** sympy.Float(w) * sign)
    return sympy.Mul(*factors)


def push_from_zero(parameter: torch.Tensor, threshold: float, first_dim: int) -> torch.Tensor:
    """mean(relu(threshold − |p|)) over the dims from ``first_dim`` on: small |p| costs, |p| ≥ threshold is free."""
    return torch.relu(threshold - parameter.abs()).flatten(first_dim).mean(-1)


# -- unit -------------------------------------------------------------------------
class INALU(Unit):
    r"""Improved NALU: separate weights, sign recovery, input-independent gate.

    .. math:: y = g\,(W_a x) + (1 - g)\, m \prod_i \big(\operatorname{sign}(x_i) |W_{m,i}| + 1 - |W_{m,i}|\big),
    .. math:: m = \exp\big(\min(W_m \log\max(|x|, 10^{-7}),\ 20)\big), \quad g = \sigma(\hat g)

    with :math:`W_a = \tanh(\hat W_a) \odot \sigma(\hat M_a)` and likewise W_m.

    Exact for + and − (g = σ(40) = 1.0 in float64, W_a = [1, ±1]) and for × and ÷
    with signs (g = σ(−40), W_a = 0, W_m = [1, ±1]) as long as |x0 op x1| ≤ e^20
    and |x_i| ≥ 1e-7: the clamp and the floor are the paper's and are left out of
    ``expression``.

    **Training protocol** (iNALU paper and code). Two parts of it are the
    unit's maths, offered through the unit interface (:mod:`arithnet.units.base`
    and :mod:`arithnet.units.capabilities`) so that the engine needs no
    knowledge of this unit:

    - ``regularization(step)`` = 0.05·Σ_p mean(relu(20 − |p|)) over all five
      parameters, for seeds whose last reported interpolation MSE is below 1
      and only for step > 10,000. The engine reports that MSE (per seed) with
      ``observe_interpolation_mse(mse)``; until it does, the regularizer is off,
      and a restarted seed forgets it (``forget_runs_(mask)``): the capabilities
      ``WatchesInterpolation`` and ``RunState``.
    - ``grad_clip_value`` = 0.1: the engine clips gradient values to ±0.1.

    The third, restarting a seed whose loss stalls, is a training rule and
    not the unit's: :class:`arithnet.training.rules.InaluRestarts` (the
    paper's window, the Primer's and the TF code's rules), an engine callback
    that the benchmark supplies with the unit.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        regularization_scale: 0.05 (= 1/20). regularization_threshold: 20.
        regularization_start: the regularizer is off up to this step (10,000).
        regularization_mse: interpolation MSE below which it is on (1.0).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        add_weight_hat, mul_weight_hat: Ŵ_a, Ŵ_m, (O, I) or (S, O, I), N(0.88, 0.2²).
        add_mask_hat, mul_mask_hat: M̂_a, M̂_m, (O, I) or (S, O, I), N(0.5, 0.2²).
        gate_hat: ĝ, (O,) or (S, O), N(0, 0.2²).
        interpolation_fit: (S,) or () bool buffer (not saved): last reported MSE < 1.
    """

    name: ClassVar[str] = "iNALU"
    operations: ClassVar[frozenset[str]] = frozenset({"add", "sub", "mul", "div"})
    # Adam lr 1e-3 as in the Primer's benchmark of iNALU (the iNALU code itself
    # used RMSProp with lr 0.01).
    default_lr: ClassVar[float] = 1e-3
    # × and ÷ go through exp(log|a| ± log|b|): a few ulps of the logarithms,
    # 1e-15 relative or so on the generic suite's inputs.
    exact_rtol: ClassVar[float] = 1e-13
    grad_clip_value: ClassVar[float | None] = 0.1  # iNALU paper: gradient values clipped to ±0.1

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        regularization_scale: float = 0.05,
        regularization_threshold: float = 20.0,
        regularization_start: int = 10_000,
        regularization_mse: float = 1.0,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.regularization_scale = regularization_scale
        self.regularization_threshold = regularization_threshold
        self.regularization_start = regularization_start
        self.regularization_mse = regularization_mse
        self.add_weight_hat = self._parameter(out_features, in_features)
        self.add_mask_hat = self._parameter(out_features, in_features)
        self.mul_weight_hat = self._parameter(out_features, in_features)
        self.mul_mask_hat = self._parameter(out_features, in_features)
        self.gate_hat = self._parameter(out_features)
        self.register_buffer("interpolation_fit", torch.zeros(self._shape(), dtype=torch.bool), persistent=False)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        # iNALU's initial distributions (paper and code: mean 0.88, 0.5, 0; std 0.2).
        sampler.normal_(self.add_weight_hat, 0.88, 0.2)
        sampler.normal_(self.add_mask_hat, 0.5, 0.2)
        sampler.normal_(self.mul_weight_hat, 0.88, 0.2)
        sampler.normal_(self.mul_mask_hat, 0.5, 0.2)
        sampler.normal_(self.gate_hat, 0.0, 0.2)

    @property
    def add_weight(self) -> torch.Tensor:
        return nac_weight(self.add_weight_hat, self.add_mask_hat)

    @property
    def mul_weight(self) -> torch.Tensor:
        return nac_weight(self.mul_weight_hat, self.mul_mask_hat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return inalu(x, self.add_weight, self.mul_weight, self.gate_hat)

    # -- the regularizer's switch ----------------------------------------------------
    def observe_interpolation_mse(self, mse: torch.Tensor | float) -> None:
        """Record each seed's latest interpolation MSE, (S,) or (); NaN counts as not below."""
        mse = torch.as_tensor(mse).detach().to(self.interpolation_fit.device)
        self.interpolation_fit.copy_((mse < self.regularization_mse).expand_as(self.interpolation_fit))

    @torch.no_grad()
    def forget_runs_(self, mask: torch.Tensor) -> None:
        """Restarted seeds (``mask``) forget their interpolation fit: the regularizer waits for a new one."""
        self.interpolation_fit &= ~torch.as_tensor(mask, dtype=torch.bool, device=self.interpolation_fit.device)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        first_dim = 0 if self.n_seeds is None else 1
        penalty = sum(push_from_zero(p, self.regularization_threshold, first_dim) for p in self.parameters())
        active = self.interpolation_fit & (step > self.regularization_start)
        return self.regularization_scale * penalty * active.to(penalty.dtype)

    # -- formulas -------------------------------------------------------------------
    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """g·(W_a x) + (1 − g)·(signed product path); floor 1e-7 and clamp e^20 left out."""
        with torch.no_grad():
            add_weight = nac_weight(self.add_weight_hat.double(), self.add_mask_hat.double())
            mul_weight = nac_weight(self.mul_weight_hat.double(), self.mul_mask_hat.double())
            gates = torch.sigmoid(self.gate_hat.double())
        rows = zip(self._weights(add_weight, seed_index), self._weights(mul_weight, seed_index))
        return [
            sympy.Float(gate) * linear_expression(add_row, inputs)
            + sympy.Float(1.0 - gate) * signed_product_expression(mul_row, inputs)
            for (add_row, mul_row), gate in zip(rows, self._weights(gates, seed_index))
        ]

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        if operation not in cls.operations or in_features < 2:
            raise cls._no_solution(operation, in_features)
        # The chosen path gets W = [1, ±1, 0, …]; the other path W = 0 (tanh 0 = 0).
        # The gate is σ(±40): exactly 1.0 and, through 1 − g, exactly 0.0 in float64.
        chosen = torch.zeros(1, in_features)
        chosen[0, 0] = EXACT_TANH
        chosen[0, 1] = -EXACT_TANH if operation in ("sub", "div") else EXACT_TANH
        masks = torch.full((1, in_features), EXACT_SIGMOID)
        unused = torch.zeros(1, in_features)
        adds = operation in ("add", "sub")
        return {
            "add_weight_hat": chosen if adds else unused,
            "add_mask_hat": masks,
            "mul_weight_hat": unused if adds else chosen,
            "mul_mask_hat": masks,
            "gate_hat": torch.tensor([EXACT_SIGMOID if adds else -EXACT_SIGMOID]),
        }
