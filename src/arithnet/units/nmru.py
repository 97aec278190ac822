"""NMRU: the Neural Multiplicative Reciprocal Unit, an NMU over the inputs and their reciprocals.

Mistry, Farrahi & Hare, "Learning Division with Neural Arithmetic Logic
Modules", arXiv 2110.05177 (code: bmistry4/nalm-division).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


def reciprocal_features(x: torch.Tensor, eps: float, training: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """|x′| and [x′ < 0] for x′ = [x, 1/(x + ε)] (training) or [x, 1/x] (evaluation), (..., B, 2I).

    The denominator's magnitude is floored at ε, so 1/(x + ε) at x = −ε and 1/x
    at x = 0 read as ±1/ε = 1e7 (the value 1/(0 + ε) has in training) instead
    of inf; a zero denominator counts as positive. Values and gradients stay finite.
    """
    denominator = x + eps if training else x
    magnitude = torch.cat([x.abs(), 1.0 / denominator.abs().clamp_min(eps)], dim=-1)
    negative = torch.cat([x < 0, denominator < 0], dim=-1).to(x.dtype)
    return magnitude, negative


#: Largest magnitude of the product (float32 holds up to 3.4e38): beyond any
#: benchmark target, small enough that gradients stay finite in float32.
PRODUCT_MAX = 1e30


def nmru(x: torch.Tensor, weight: torch.Tensor, eps: float, training: bool, sign: bool) -> torch.Tensor:
    """y = ∏_j (W_j|x′_j| + 1 − W_j) · cos(π Σ_j W_j [x′_j < 0]); without ``sign`` the cosine is left out.

    (1 − W) is formed first so that W = 1 gives |x′| exactly.
    """
    x = x.to(weight.dtype)
    magnitude, negative = reciprocal_features(x, eps, training)
    w = weight.unsqueeze(-3)  # (..., 1, O, 2I)
    factors = w * magnitude.unsqueeze(-2) + (1.0 - w)  # (..., B, O, 2I)
    # Ten zero inputs give ten factors near 1/ε = 1e7, whose product (and its
    # gradient) leaves float32's range: multiply in float64 and clamp.
    y = factors.double().prod(-1).clamp(max=PRODUCT_MAX).to(x.dtype)  # (..., B, O)
    if sign:
        y = y * torch.cos(math.pi * (negative @ weight.mT))
    return y


def nmru_sparsity(weight: torch.Tensor, n_seeds: int | None) -> torch.Tensor:
    """mean(min(W, 1 − W)) per seed, (S,) or (): the NMU's penalty."""
    return torch.minimum(weight, 1.0 - weight).reshape(-1 if n_seeds is None else (n_seeds, -1)).mean(-1)


class NMRU(Unit):
    r"""Neural Multiplicative Reciprocal Unit.

    .. math:: x' = [x, 1/(x + \varepsilon)], \quad
              y = \prod_j (W_j |x'_j| + 1 - W_j) \cdot \cos\big(\pi \textstyle\sum_j W_j [x'_j < 0]\big)

    An NMU over the 2I features x and 1/x: division is W = [1, 0, 0, 1]
    (x0 · 1/x1), multiplication W = [1, 1, 0, 0]. The cosine restores the sign
    (``sign=True``, the division paper's 91.6% result); the vanilla unit
    (``sign=False``, registered as "NMRU-vanilla") multiplies magnitudes only
    and so is wrong for negative inputs (``handles_signs`` is False).

    Training and evaluation differ (``self.training``): training uses
    1/(x + ε), evaluation the exact 1/x.

    W is clamped to [0, 1] after every step. The penalty is the NMU's,
    λ(t)·mean(min(W, 1 − W)) with λ(t) = λ̂·clip((t − start)/(end − start), 0, 1);
    defaults λ̂ = 10 over 50k → 75k, the input-10 setting (input 2: 20k → 35k).
    The paper trains with Adam lr 1e-2 and clips the gradient norm at 1:
    ``grad_clip_norm`` tells the trainer.

    Zero inputs: the reciprocal's denominator is floored at ε in magnitude, so
    1/0 reads as 1/ε = 1e7, in training and at evaluation. The product itself
    is not clamped (that would cost exactness): with many inputs of large
    magnitude it can overflow in float32 (I = 10 near |x| = 1e6 at the initial
    W ≈ 0.5); arithnet trains in float64, where it stays finite.

    Formulas: with ``sign=True`` the expression is faithful (see
    ``expression``). The vanilla unit computes |x0|·|x1|, |x0|/|x1|, ...; it is
    exact only for positive inputs, and its expression is written for that
    domain (|x′| as x′), so its known solution reads as x0·x1 or x0/x1.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        sign: multiply by the sign term (default True).
        eps: ε of 1/(x + ε) and the floor of the denominator (1e-7).
        regularization_scale, regularization_start, regularization_end: λ̂ and the ramp.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: W, (O, 2I) or (S, O, 2I), the NMU's initialisation U[0.25, 0.75];
            columns I.. act on the reciprocals.

    Examples:
        >>> unit = NMRU(2, 1).eval()
        >>> unit.load_state_dict(NMRU.exact_solution("div"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-2.]], grad_fn=<MulBackward0>)
    """

    name: ClassVar[str] = "NMRU"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    default_lr: ClassVar[float] = 1e-2
    #: The paper clips the gradient norm at 1 before every Adam step.
    grad_clip_norm: ClassVar[float | None] = 1.0
    # In training 1/(x + ε) is off by ε/|x| relative: 4e-6 at |x| = 0.025 (the
    # smallest divisor of the generic suite); at evaluation the solution is exact.
    exact_rtol: ClassVar[float] = 1e-5
    variants: ClassVar[dict[str, dict[str, Any]]] = {"NMRU-vanilla": {"sign": False}}

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        sign: bool = True,
        eps: float = 1e-7,
        regularization_scale: float = 10.0,
        regularization_start: int = 50_000,
        regularization_end: int = 75_000,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.sign = sign
        self.handles_signs = sign
        self.eps = eps
        self._set_ramp(regularization_scale, regularization_start, regularization_end)
        self.weight = self._parameter(out_features, 2 * in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        # The NMU's initialisation (Madsen & Johansen, ICLR 2020).
        (sampler or Sampler()).uniform_(self.weight, 0.25, 0.75)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nmru(x, self.weight, self.eps, self.training, self.sign)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        return self._like_parameters(self.ramp_weight(step)) * nmru_sparsity(self.weight, self.n_seeds)

    @torch.no_grad()
    def project_(self) -> None:
        self.weight.clamp_(0.0, 1.0)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """∏_j (W_j|x′_j| + 1 − W_j) · Re ∏_j (x′_j/|x′_j|)^{W_j}; vanilla: ∏_j (W_j x′_j + 1 − W_j).

        (x′/|x′|)^W is 1 for x′ > 0 and e^{iπW} (principal branch) for x′ < 0,
        so the real part of the second product is exactly the cosine term, for
        any W; at W = 1 the two factors of x′ multiply to x′. x′ uses 1/(x + ε)
        in training mode.
        """
        eps = sympy.Float(self.eps) if self.training else 0
        features = [*inputs, *(1 / (x + eps) for x in inputs)]
        outputs = []
        for row in self._weights(self.weight, seed_index):
            weights = [sympy.Float(w) for w in row]
            if not self.sign:
                outputs.append(sympy.Mul(*(w * f + 1 - w for f, w in zip(features, weights))))
                continue
            magnitude = sympy.Mul(*(w * sympy.Abs(f) + 1 - w for f, w in zip(features, weights)))
            sign = sympy.Mul(*((f / sympy.Abs(f)) ** w for f, w in zip(features, weights)))
            outputs.append(magnitude * sympy.re(sign))
        return outputs

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        columns = {"mul": 1, "div": in_features + 1}
        if operation not in columns or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight = torch.zeros(1, 2 * in_features)
        weight[0, 0] = weight[0, columns[operation]] = 1.0
        return {"weight": weight}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, sign={self.sign}, eps={self.eps}, "
            f"regularization={self.regularization_scale} over {self.regularization_start}→{self.regularization_end}"
        )
