"""NPU: the Neural Power Unit, z = Re exp(W · Log r) with complex weights W and a gated input r.

Heim, Pevný & Šmídl, "Neural Power Units", NeurIPS 2020 (reference code:
nmheim/NeuralArithmetic.jl, Julia). The pure functions below are shared with
:mod:`arithnet.units.realnpu`.
"""

from __future__ import annotations

import math
from typing import ClassVar

import sympy
import torch

from arithnet.schedules import l1_weight
from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.logexp import LOG_OUTPUT_MAX

#: How the gate's gradient passes the clip ĝ = clip(g, 0, 1).
GATE_GRADIENTS = ("straight_through", "clamp")


def clip_gate(gate: torch.Tensor, gradient: str = "straight_through") -> torch.Tensor:
    """ĝ = clip(g, 0, 1), with the gradient of the Julia reference or of the PyTorch port.

    ``"straight_through"`` (NeuralArithmetic.jl): the gradient passes the clip
    unchanged, so a gate outside [0, 1] can still come back. ``"clamp"``
    (the stable-nalu family's ``torch.clamp``): zero gradient outside [0, 1].
    The straight-through value is ``clamp(g)`` exactly: ``g − g.detach()`` is 0.
    """
    clipped = gate.clamp(0.0, 1.0)
    if gradient == "clamp":
        return clipped
    if gradient == "straight_through":
        return clipped.detach() + (gate - gate.detach())
    raise ValueError(f"gate_gradient must be one of {GATE_GRADIENTS}, not {gradient!r}")


def gated_log_polar(x: torch.Tensor, gate: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """log r and k of the gated input, both (..., B, I); ``gate`` is ĝ, (..., I).

    r = ĝ(|x| + ε) + (1 − ĝ) and k = ĝ·π·[x < 0]: r·e^{ik} is x (up to ε) where
    ĝ = 1 and the constant 1 where ĝ = 0. r ≥ min(|x| + ε, 1) > 0, so log r is finite.
    """
    g = gate.unsqueeze(-2)  # (..., 1, I)
    r = g * (x.abs() + eps) + (1.0 - g)
    k = g * (math.pi * (x < 0).to(x.dtype))
    return torch.log(r), k


def npu(
    x: torch.Tensor, weight_real: torch.Tensor, weight_imag: torch.Tensor | None, gate: torch.Tensor, eps: float
) -> torch.Tensor:
    """z = exp(W_re·log r − W_im·k) ⊙ cos(W_re·k + W_im·log r); ``weight_imag=None`` is the Real NPU.

    The exponent is clamped at LOG_OUTPUT_MAX (as in LogExp) so that outputs and
    gradients stay finite in float32 for any finite input.
    """
    log_r, k = gated_log_polar(x.to(weight_real.dtype), gate, eps)
    log_magnitude = log_r @ weight_real.mT  # (..., B, O)
    phase = k @ weight_real.mT
    if weight_imag is not None:
        log_magnitude = log_magnitude - k @ weight_imag.mT
        phase = phase + log_r @ weight_imag.mT
    return torch.exp(log_magnitude.clamp_max(LOG_OUTPUT_MAX)) * torch.cos(phase)


def gated_base(x: sympy.Symbol, gate: float, eps: float) -> sympy.Expr:
    """r·e^{ik} as sympy: (ĝ(|x| + ε) + 1 − ĝ)·(x/|x|)^ĝ.

    (x/|x|)^ĝ is 1 for x > 0 and (−1)^ĝ = e^{iπĝ} (principal branch) for x < 0,
    so the principal power of this base is exactly the NPU's exp(w·(log r + ik)).
    At ĝ = 1 and ε snapped to 0 the base is |x|·x/|x| = x, so the cosine that
    makes the sign exact for integer exponents reads as plain x. It is not
    defined at x = 0, where the unit itself gives r = ĝε + 1 − ĝ, k = 0.
    """
    g = sympy.Float(gate)
    return (g * (sympy.Abs(x) + sympy.Float(eps)) + 1 - g) * (x / sympy.Abs(x)) ** g


def npu_expression(
    inputs: list[sympy.Symbol],
    weight_real: list[list[float]],
    weight_imag: list[list[float]] | None,
    gate: list[float],
    eps: float,
) -> list[sympy.Expr]:
    """Re ∏_i b_i^{w_i} per output, b_i the gated base and w = W_re + i·W_im.

    A non-integer exponent keeps its float value: the principal power of a
    negative base is complex, and re() takes exactly the NPU's cosine of it.
    """
    bases = [gated_base(x, g, eps) for x, g in zip(inputs, gate)]
    imag_rows = weight_imag if weight_imag is not None else [[0.0] * len(inputs)] * len(weight_real)
    outputs = []
    for row_real, row_imag in zip(weight_real, imag_rows):
        exponents = [
            sympy.Float(a) + sympy.I * sympy.Float(b) if b else sympy.Float(a) for a, b in zip(row_real, row_imag)
        ]
        outputs.append(sympy.re(sympy.Mul(*(base**w for base, w in zip(bases, exponents)))))
    return outputs


def per_seed_sum(tensor: torch.Tensor, n_seeds: int | None) -> torch.Tensor:
    """Sum over every dimension but the leading seed dimension: (S,) or ()."""
    return tensor.reshape(-1 if n_seeds is None else (n_seeds, -1)).sum(-1)


def power_solution(unit_name: str, operation: str, in_features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exponents (1, I) and gate (I,) for x0 · x1^{±1}; other inputs gated off (ĝ = 0, W = 0)."""
    powers = {"mul": 1.0, "div": -1.0}
    if operation not in powers or in_features < 2:
        raise ValueError(f"{unit_name} has no built-in solution for {operation!r} with {in_features} inputs")
    weight = torch.zeros(1, in_features)
    weight[0, 0], weight[0, 1] = 1.0, powers[operation]
    gate = torch.zeros(in_features)
    gate[:2] = 1.0
    return weight, gate


class NPU(Unit):
    r"""Neural Power Unit with complex weights.

    .. math:: r = \hat g \odot (|x| + \varepsilon) + 1 - \hat g, \quad
              k = \hat g \odot \pi [x < 0], \quad \hat g = \operatorname{clip}(g, 0, 1)

    .. math:: z = \exp(W_{re} \log r - W_{im} k) \odot \cos(W_{re} k + W_{im} \log r)

    This is Re exp(W · Log(r·e^{ik})) with W = W_re + i·W_im: the gate ĝ_i
    chooses between the input x_i (ĝ = 1) and the constant 1 (ĝ = 0). Division
    is ĝ = (1, 1), W_re = [1, −1], W_im = 0; for integer exponents the cosine
    is exactly the sign of the product.

    No projection (the paper trains g unconstrained). The penalty is the
    paper's L1 norm of every parameter, β(t)·Σ|p|, with β multiplied by
    ``l1_growth`` every ``l1_interval`` steps from ``l1_start`` up to
    ``l1_end``. The paper uses 1e-7 → 1e-5 for × and 1e-9 → 1e-7 for ÷; the
    defaults are the ÷ setting (the division grids are the project's target).

    Zero and huge inputs: r ≥ min(|x| + ε, 1) keeps log r finite and the
    exponent is clamped at LOG_OUTPUT_MAX = 60 before exp.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        eps: ε added to |x| (1e-7).
        gate_gradient: ``"straight_through"`` (Julia reference, default) or
            ``"clamp"`` (PyTorch port: no gradient while g is outside [0, 1]).
        l1_start, l1_end, l1_growth, l1_interval: the L1 schedule above.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_real: W_re, (O, I) or (S, O, I), Xavier-uniform U[−a, a], a = √(6/(I + O)).
        weight_imag: W_im, same shape, initialised 0.
        gate: g, (I,) or (S, I), initialised 0.5.

    Examples:
        >>> unit = NPU(2, 1)
        >>> unit.load_state_dict(NPU.exact_solution("div"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-2.]], grad_fn=<MulBackward0>)
    """

    name: ClassVar[str] = "NPU"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    default_lr: ClassVar[float] = 5e-3
    # r = |x| + ε: each factor is off by ε/|x| relative, 4e-6 at |x| = 0.025
    # (the smallest input of the generic suite).
    exact_rtol: ClassVar[float] = 1e-5

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        eps: float = 1e-7,
        gate_gradient: str = "straight_through",
        l1_start: float = 1e-9,
        l1_end: float = 1e-7,
        l1_growth: float = 10.0,
        l1_interval: int = 10_000,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if gate_gradient not in GATE_GRADIENTS:
            raise ValueError(f"gate_gradient must be one of {GATE_GRADIENTS}, not {gate_gradient!r}")
        self.eps = eps
        self.gate_gradient = gate_gradient
        self.l1_start, self.l1_end, self.l1_growth, self.l1_interval = l1_start, l1_end, l1_growth, l1_interval
        self.weight_real = self._parameter(out_features, in_features)
        self.weight_imag = self._parameter(out_features, in_features)
        self.gate = self._parameter(in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        bound = math.sqrt(6.0 / (self.in_features + self.out_features))
        sampler.uniform_(self.weight_real, -bound, bound)
        sampler.constant_(self.weight_imag, 0.0)
        sampler.constant_(self.gate, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return npu(x, self.weight_real, self.weight_imag, clip_gate(self.gate, self.gate_gradient), self.eps)

    def l1_weight(self, step: int | torch.Tensor) -> float | torch.Tensor:
        """β(t) at ``step``: a float for an int step, else a tensor."""
        return l1_weight(step, self.l1_start, self.l1_end, self.l1_growth, self.l1_interval)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        l1 = sum(per_seed_sum(p.abs(), self.n_seeds) for p in (self.weight_real, self.weight_imag, self.gate))
        return self._like_parameters(self.l1_weight(step)) * l1

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return npu_expression(
            inputs,
            self._weights(self.weight_real, seed_index),
            self._weights(self.weight_imag, seed_index),
            self._weights(self.gate.clamp(0.0, 1.0), seed_index),
            self.eps,
        )

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        weight, gate = power_solution(cls.__name__, operation, in_features)
        return {"weight_real": weight, "weight_imag": torch.zeros_like(weight), "gate": gate}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, eps={self.eps}, gate_gradient={self.gate_gradient!r}, "
            f"l1={self.l1_start}→{self.l1_end} (×{self.l1_growth} every {self.l1_interval})"
        )
