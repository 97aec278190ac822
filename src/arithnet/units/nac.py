"""NAC+ and NAC•: the neural accumulators of NALU (Trask et al., NeurIPS 2018).

Both read their weights through W = tanh(Ŵ) ⊙ σ(M̂), which pushes W towards
{−1, 0, 1}. NAC+ is z = W x; NAC• is z = exp(W · log(|x| + ε)), a product of
powers of |x| that loses the sign of x.
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.logexp import LOG_OUTPUT_MAX

#: Pre-activations of an exact weight: tanh(±20) and σ(40) are exactly ±1.0
#: in float64 (and float32), tanh(0) is exactly 0. σ(20) is not (1 − 2e-9).
EXACT_TANH = 20.0
EXACT_SIGMOID = 40.0


# -- pure functions -------------------------------------------------------------
def nac_weight(weight_hat: torch.Tensor, mask_hat: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """W = tanh(scale·Ŵ) ⊙ σ(scale·M̂); ``scale`` = ln φ gives G-NALU's base-φ functions."""
    return torch.tanh(scale * weight_hat) * torch.sigmoid(scale * mask_hat)


def nac_add(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """z = W x: (..., B, I) with (..., O, I) to (..., B, O), in the weight's dtype."""
    return x.to(weight.dtype) @ weight.mT


def nac_mul_log(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """log z = W · log(|x| + ε), clamped at LOG_OUTPUT_MAX so that exp stays finite.

    Without the clamp, exp overflows once Σ_i |W_i|·|log(|x_i| + ε)| passes
    ~709 (float64), e.g. 100 inputs near zero. The gradient of |x| at x = 0 is
    torch's sign(0) = 0, so zero inputs give finite gradients.
    """
    return (torch.log(x.to(weight.dtype).abs() + eps) @ weight.mT).clamp_max(LOG_OUTPUT_MAX)


def nac_mul(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """z = exp(W · log(|x| + ε)) = ∏_i (|x_i| + ε)^{W_i}."""
    return torch.exp(nac_mul_log(x, weight, eps))


def nac_weight_variance(r: float) -> float:
    """Var(tanh(Ŵ)·σ(M̂)) for Ŵ, M̂ independent and U[−r, r].

    E[tanh Ŵ] = 0, so the variance is E[tanh² Ŵ]·E[σ² M̂]. With tanh² = 1 − tanh′
    the first factor is 1 − tanh(r)/r; with σ² = σ − σ′ and σ(u) + σ(−u) = 1 the
    second is (r − tanh(r/2)) / (2r). The product rises from 0 to 1/2 as r grows.
    """
    if r <= 0.0:
        return 0.0
    return (1.0 - math.tanh(r) / r) * (r - math.tanh(r / 2.0)) / (2.0 * r)


@functools.cache
def nac_uniform_bound(in_features: int, out_features: int) -> float:
    """r such that fan·Var(W) = 2 with fan = max(I + O, 5) (ICLR 2020's NAC init).

    The variance is increasing in r and below 1/2, and 2/fan ≤ 0.4, so a
    bisection on [0, 50] finds r to float precision: r ≈ 9.47 for fan 5,
    2.50 for fan 10, 0.504 for fan 102.
    """
    target = 2.0 / max(in_features + out_features, 5)
    low, high = 0.0, 50.0
    for _ in range(200):
        middle = 0.5 * (low + high)
        if nac_weight_variance(middle) < target:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def linear_expression(row: list[float], inputs: list[sympy.Symbol]) -> sympy.Expr:
    return sum((sympy.Float(w) * x for w, x in zip(row, inputs)), sympy.Integer(0))


def power_expression(row: list[float], inputs: list[sympy.Symbol], eps: float) -> sympy.Expr:
    """∏_i (x_i + ε)^{W_i}: the product path written for positive inputs (|x| = x).

    The unit computes it from |x|, so for negative inputs it gives the same
    value as for |x|; ``handles_signs`` is False to say so. Writing |x| here
    would keep even the exact solution from reading as x0·x1.
    """
    return sympy.Mul(*[(x + sympy.Float(eps)) ** sympy.Float(w) for w, x in zip(row, inputs)])


def exact_nac_parameters(second_weight: float, in_features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(Ŵ, M̂) of shape (1, I) whose W is exactly [1, second_weight, 0, …], second_weight = ±1."""
    weight_hat = torch.zeros(1, in_features)
    weight_hat[0, 0] = EXACT_TANH
    weight_hat[0, 1] = second_weight * EXACT_TANH
    return weight_hat, torch.full((1, in_features), EXACT_SIGMOID)


# -- units ------------------------------------------------------------------------
class _NAC(Unit):
    """What NAC+ and NAC• share: the weight W = tanh(Ŵ) ⊙ σ(M̂) and its init."""

    # ICLR 2020 and the Primer train every NALM but the NPUs with Adam, lr 1e-3.
    default_lr: ClassVar[float] = 1e-3

    def __init__(self, in_features: int, out_features: int, n_seeds: int | None = None) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.weight_hat = self._parameter(out_features, in_features)
        self.mask_hat = self._parameter(out_features, in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        r = nac_uniform_bound(self.in_features, self.out_features)
        sampler.uniform_(self.weight_hat, -r, r)
        sampler.uniform_(self.mask_hat, -r, r)

    @property
    def weight(self) -> torch.Tensor:
        """The effective weight W = tanh(Ŵ) ⊙ σ(M̂), (O, I) or (S, O, I)."""
        return nac_weight(self.weight_hat, self.mask_hat)

    def _effective_weights(self, seed_index: int) -> list[list[float]]:
        with torch.no_grad():
            weight = nac_weight(self.weight_hat.double(), self.mask_hat.double())
        return self._weights(weight, seed_index)

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        if operation not in cls.operations or in_features < 2:
            raise cls._no_solution(operation, in_features)
        # x0 + x1 and x0 · x1 have W = [1, 1]; x0 − x1 and x0 / x1 have W = [1, −1].
        second_weight = -1.0 if operation in ("sub", "div") else 1.0
        weight_hat, mask_hat = exact_nac_parameters(second_weight, in_features)
        return {"weight_hat": weight_hat, "mask_hat": mask_hat}


class NACAdd(_NAC):
    r"""Additive neural accumulator, :math:`z = W x`, :math:`W = \tanh(\hat W) \odot \sigma(\hat M)`.

    Addition is W = [1, 1], subtraction W = [1, −1] (Ŵ = ±20, M̂ = 40, exact
    in float64). No regularizer, no constraint.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_hat, mask_hat: Ŵ and M̂, (O, I) or (S, O, I), both U[−r, r] with
            r such that fan·Var(W) = 2, fan = max(I + O, 5) (r ≈ 9.47 for I = 2, O = 1).

    Examples:
        >>> unit = NACAdd(2, 1)
        >>> unit.load_state_dict(NACAdd.exact_solution("sub"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[5.0, 3.0]]))
        tensor([[2.]], grad_fn=<MmBackward0>)
    """

    name: ClassVar[str] = "NAC+"
    operations: ClassVar[frozenset[str]] = frozenset({"add", "sub"})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nac_add(x, self.weight)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return [linear_expression(row, inputs) for row in self._effective_weights(seed_index)]


class NACMul(_NAC):
    r"""Multiplicative neural accumulator, :math:`z = \exp(W \cdot \log(|x| + \varepsilon))`.

    Multiplication is W = [1, 1], division W = [1, −1]; the result is that of
    |x|, so the sign of x is lost (``handles_signs`` is False). log z is
    clamped at LOG_OUTPUT_MAX = 60 before exp so that any finite input gives
    finite values and gradients.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        eps: ε inside the logarithm (1e-7, as in the papers).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_hat, mask_hat: as in :class:`NACAdd`.

    Examples:
        >>> unit = NACMul(2, 1).double()
        >>> unit.load_state_dict(NACMul.exact_solution("mul"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-2.0, 3.0]], dtype=torch.float64))  # sign lost
        tensor([[6.0000]], dtype=torch.float64, grad_fn=<ExpBackward0>)
    """

    name: ClassVar[str] = "NAC*"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    handles_signs: bool = False
    # ε = 1e-7 inside the logarithm: (|a| + ε)(|b| + ε) differs from ab by about
    # ε/|a| + ε/|b|, 4e-6 for the generic suite's smallest input 0.025.
    exact_rtol: ClassVar[float] = 1e-5

    def __init__(self, in_features: int, out_features: int, n_seeds: int | None = None, *, eps: float = 1e-7) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nac_mul(x, self.weight, self.eps)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return [power_expression(row, inputs, self.eps) for row in self._effective_weights(seed_index)]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, eps={self.eps}"
