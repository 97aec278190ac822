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
from arithnet.units.ramp import RampedRegularization

#: How the NMRU gets the sign of its output (nalm-division's three NMRU layers).
SIGN_RULES = ("cosine", "product", "gated")


def reciprocal_inputs(x: torch.Tensor, eps: float, training: bool) -> torch.Tensor:
    """x′ = [x, 1/(x + ε)] (training) or [x, 1/x] (evaluation), signed, (..., B, 2I).

    Guard: a denominator below ε in magnitude counts as ±ε with its own sign
    bit, so 1/(+0) reads as +1/ε and 1/(−0) as −1/ε = −1e7 where the
    reference gives ±inf (and then inf or NaN outputs): the guarded value
    carries the sign of the reference's infinity, which the sign rules then
    see. For 0 < |denominator| < ε the reference is finite (up to 1/ε...1e38)
    and arithnet still reads 1/ε: the one place this unit departs from it
    (docs/faithfulness.md).
    """
    denominator = x + eps if training else x
    tiny = denominator.abs() < eps
    safe = torch.where(tiny, torch.copysign(torch.full_like(denominator, eps), denominator), denominator)
    return torch.cat([x, 1.0 / safe], dim=-1)


#: Largest magnitude of the product (float32 holds up to 3.4e38): beyond any
#: benchmark target, small enough that gradients stay finite in float32.
PRODUCT_MAX = 1e30


def nmu_product(features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """∏_j (W_j f_j + 1 − W_j), (..., B, O), for features f (..., B, 2I) and W (..., O, 2I).

    (1 − W) is formed first so that W = 1 gives f exactly. Ten zero inputs give
    ten factors near 1/ε = 1e7, whose product (and its gradient) leaves
    float32's range: multiply in float64 and clamp at ±PRODUCT_MAX.
    """
    w = weight.unsqueeze(-3)  # (..., 1, O, 2I)
    factors = w * features.unsqueeze(-2) + (1.0 - w)  # (..., B, O, 2I)
    return factors.double().prod(-1).clamp(-PRODUCT_MAX, PRODUCT_MAX).to(features.dtype)


def nmru(
    x: torch.Tensor,
    weight: torch.Tensor,
    eps: float,
    training: bool,
    sign_rule: str = "cosine",
    gate: torch.Tensor | None = None,
) -> torch.Tensor:
    """The NMRU of nalm-division, by ``sign_rule`` (x′ from ``reciprocal_inputs``):

    - ``"cosine"``: ∏_j (W_j|x′_j| + 1 − W_j) · cos(π Σ_j W_j [x′_j < 0]);
    - ``"product"`` (NMRU-vanilla): ∏_j (W_j x′_j + 1 − W_j), the sign comes out of the product;
    - ``"gated"``: u = g ⊙ x′, then the cosine rule on u.

    [x′ < 0] is the reference's max(−sign(x′), 0): −0.0 counts as positive.
    """
    features = reciprocal_inputs(x.to(weight.dtype), eps, training)
    if sign_rule == "product":
        return nmu_product(features, weight)
    if sign_rule == "gated":
        features = features * gate.unsqueeze(-2)  # (..., B, 2I)
    negative = (features < 0).to(features.dtype)
    return nmu_product(features.abs(), weight) * torch.cos(math.pi * (negative @ weight.mT))


def nmru_sparsity(weight: torch.Tensor, n_seeds: int | None) -> torch.Tensor:
    """mean(min(|W|, |1 − W|)) per seed, (S,) or (): the NMU's penalty, with the reference's gradient."""
    penalty = torch.minimum(weight.abs(), (1.0 - weight).abs())
    return penalty.reshape(-1 if n_seeds is None else (n_seeds, -1)).mean(-1)


def signed_factor(feature: sympy.Expr, weight: float, gate: float = 1.0) -> tuple[sympy.Expr, sympy.Expr]:
    """(W|g f| + 1 − W, (g f/|g f|)^W) as sympy: one factor of the magnitude and of the sign product."""
    w = sympy.Float(weight)
    if gate == 0.0:
        return 1 - w, sympy.Integer(1)
    f = sympy.Float(gate) * feature if gate != 1.0 else feature
    return w * sympy.Abs(f) + 1 - w, (f / sympy.Abs(f)) ** w


class NMRU(RampedRegularization, Unit):
    r"""Neural Multiplicative Reciprocal Unit.

    .. math:: x' = [x, 1/(x + \varepsilon)], \quad
              y = \prod_j (W_j |x'_j| + 1 - W_j) \cdot \cos\big(\pi \textstyle\sum_j W_j [x'_j < 0]\big)

    An NMU over the 2I features x and 1/x: division is W = [1, 0, 0, 1]
    (x0 · 1/x1), multiplication W = [1, 1, 0, 0]. ``sign_rule`` chooses one of
    the division paper's three layers (nalm-division, ``stable_nalu/layer/
    concat_reciprocal_nmu*.py``):

    - ``"cosine"`` (default, "NMRU"; the 91.6% result): magnitudes multiplied,
      the sign restored by the cosine above.
    - ``"product"`` ("NMRU-vanilla", the paper's ablation): the NMU over the
      signed x′, y = ∏_j (W_j x′_j + 1 − W_j); the sign comes out of the
      product, and the reference trains it without gradient clipping.
    - ``"gated"`` ("NMRU-gated"): a gate g ∈ [0, 1]^{2I} scales the features,
      u = g ⊙ x′, then the cosine rule on u:
      y = ∏_j (W_j |u_j| + 1 − W_j)·cos(π Σ_j W_j [u_j < 0]). g starts at 0.5,
      is clamped to [0, 1] after every step and, with ``gate_regularization``
      (1 in the paper's run), penalised by mean(min(|g|, |1 − g|)) on the
      same ramp as W.

    Training and evaluation differ (``self.training``): training uses
    1/(x + ε), evaluation the exact 1/x.

    W is clamped to [0, 1] after every step. The penalty is the NMU's,
    λ(t)·mean(min(|W|, |1 − W|)) with λ(t) = λ̂·clip((t − start)/(end − start), 0, 1);
    defaults λ̂ = 10 over 50k → 75k, the input-10 setting (input 2: 20k → 35k).
    The paper trains with Adam lr 1e-2 and clips the gradient norm at 1 (not
    for the product rule): ``training_clipping`` tells the trainer.

    Zero inputs: the reciprocal's denominator is floored at ε in magnitude,
    keeping its sign bit, so 1/(±0) reads as ±1/ε = ±1e7, in training and at
    evaluation (the reference gives ±inf there). The product is clamped at
    ±PRODUCT_MAX = 1e30.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        sign_rule: ``"cosine"`` (default), ``"product"`` or ``"gated"`` (above).
        eps: ε of 1/(x + ε) and the floor of the denominator (1e-7; the
            reference uses float32's machine epsilon 1.1920928955078125e-07).
        regularization_scale, regularization_start, regularization_end: λ̂ and the ramp.
        gate_regularization: weight of the gate's penalty on the ramp (gated rule only; 1.0).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: W, (O, 2I) or (S, O, 2I), the NMU's initialisation U[0.25, 0.75];
            columns I.. act on the reciprocals.
        gate: g, (2I,) or (S, 2I), initialised 0.5; only with ``sign_rule="gated"``.

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
    #: The paper clips the gradient norm at 1 before every Adam step (not for
    #: the product rule: ``training_clipping``).
    grad_clip_norm: ClassVar[float | None] = 1.0
    # In training 1/(x + ε) is off by ε/|x| relative: 4e-6 at |x| = 0.025 (the
    # smallest divisor of the generic suite); at evaluation the solution is exact.
    exact_rtol: ClassVar[float] = 1e-5
    variants: ClassVar[dict[str, dict[str, Any]]] = {
        "NMRU-vanilla": {"sign_rule": "product"},
        "NMRU-gated": {"sign_rule": "gated"},
    }

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        sign_rule: str = "cosine",
        eps: float = 1e-7,
        regularization_scale: float = 10.0,
        regularization_start: int = 50_000,
        regularization_end: int = 75_000,
        gate_regularization: float = 1.0,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if sign_rule not in SIGN_RULES:
            raise ValueError(f"sign_rule must be one of {SIGN_RULES}, not {sign_rule!r}")
        self.sign_rule = sign_rule
        self.eps = eps
        self.gate_regularization = gate_regularization
        self.grad_clip_value, self.grad_clip_norm = self.training_clipping({"sign_rule": sign_rule})
        self._set_ramp(regularization_scale, regularization_start, regularization_end)
        self.weight = self._parameter(out_features, 2 * in_features)
        if sign_rule == "gated":
            self.gate = self._parameter(2 * in_features)
        else:
            self.register_parameter("gate", None)
        self.reset_parameters()

    @classmethod
    def training_clipping(cls, options: dict[str, Any]) -> tuple[float | None, float | None]:
        # nalm-division's scripts pass --clip-grad-norm 1 to the sign NMRUs only.
        if options.get("sign_rule", "cosine") == "product":
            return None, None
        return cls.grad_clip_value, cls.grad_clip_norm

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        # The NMU's initialisation (Madsen & Johansen, ICLR 2020).
        sampler.uniform_(self.weight, 0.25, 0.75)
        if self.gate is not None:
            sampler.constant_(self.gate, 0.5)  # nalm-division's gated NMRU

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nmru(x, self.weight, self.eps, self.training, self.sign_rule, self.gate)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        penalty = nmru_sparsity(self.weight, self.n_seeds)
        if self.gate is not None:  # an option, fixed at construction: no branch on the step
            penalty = penalty + self.gate_regularization * nmru_sparsity(self.gate, self.n_seeds)
        return self._like_parameters(self.ramp_weight(step)) * penalty

    @torch.no_grad()
    def project_(self) -> None:
        self.weight.clamp_(0.0, 1.0)
        if self.gate is not None:
            self.gate.clamp_(0.0, 1.0)

    def sparsity_weights(self) -> list[torch.Tensor]:
        return [self.weight]

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """∏_j (W_j|u_j| + 1 − W_j) · Re ∏_j (u_j/|u_j|)^{W_j}, u = g ⊙ x′; product rule: ∏_j (W_j x′_j + 1 − W_j).

        (u/|u|)^W is 1 for u > 0 and e^{iπW} (principal branch) for u < 0,
        so the real part of the second product is exactly the cosine term, for
        any W; at W = 1 the two factors of u multiply to u. x′ uses 1/(x + ε)
        in training mode.
        """
        eps = sympy.Float(self.eps) if self.training else 0
        features = [*inputs, *(1 / (x + eps) for x in inputs)]
        gates = self._weights(self.gate, seed_index) if self.gate is not None else [1.0] * len(features)
        outputs = []
        for row in self._weights(self.weight, seed_index):
            if self.sign_rule == "product":
                outputs.append(sympy.Mul(*(sympy.Float(w) * f + 1 - sympy.Float(w) for f, w in zip(features, row))))
                continue
            pairs = [signed_factor(f, w, g) for f, w, g in zip(features, row, gates)]
            outputs.append(
                sympy.Mul(*(magnitude for magnitude, _ in pairs)) * sympy.re(sympy.Mul(*(sign for _, sign in pairs)))
            )
        return outputs

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2, sign_rule: str = "cosine") -> dict[str, torch.Tensor]:
        columns = {"mul": 1, "div": in_features + 1}
        if operation not in columns or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight = torch.zeros(1, 2 * in_features)
        weight[0, 0] = weight[0, columns[operation]] = 1.0
        if sign_rule == "gated":
            return {"weight": weight, "gate": torch.ones(2 * in_features)}
        return {"weight": weight}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, sign_rule={self.sign_rule!r}, eps={self.eps}, "
            f"regularization={self.regularization_scale} over {self.regularization_start}→{self.regularization_end}"
        )
