"""Real NPU: the NPU with W_im ≡ 0, and the division paper's modified Real NPU as an option."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import sympy
import torch

from arithnet.schedules import l1_weight
from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.npu import GATE_GRADIENTS, clip_gate, npu, npu_expression, per_seed_sum, power_solution
from arithnet.units.ramp import RampedRegularization


def per_seed_mean(tensor: torch.Tensor, n_seeds: int | None) -> torch.Tensor:
    """Mean over every dimension but the leading seed dimension: (S,) or ()."""
    return tensor.reshape(-1 if n_seeds is None else (n_seeds, -1)).mean(-1)


class RealNPU(RampedRegularization, Unit):
    r"""Real Neural Power Unit: the NPU with real weights only.

    .. math:: z = \exp(W \log r) \odot \cos(\pi W ([x < 0] \odot \hat g)), \quad
              r = \hat g \odot (|x| + \varepsilon) + 1 - \hat g, \quad \hat g = \operatorname{clip}(g, 0, 1)

    Heim, Pevný & Šmídl, NeurIPS 2020. For integer exponents the cosine is
    exactly the sign. The penalty is the NPU paper's L1 schedule β(t)·Σ|p| (see
    :class:`~arithnet.units.npu.NPU`; defaults 1e-9 → 1e-7, the ÷ setting).

    ``modified=True`` is the division paper's modified Real NPU (Mistry,
    Farrahi & Hare, arXiv 2110.05177, the 85.3% result), registered as
    "RealNPU-mod":

    - W initialised NAU-style, U[−r, r], r = min(0.5, √(6/(I + O)));
    - after every step W is clamped to [−1, 1] and g to [0, 1];
    - on top of the L1 term, λ(t)·(mean|1 − |W|| + mean min(g, 1 − g)) with
      λ(t) = λ̂·clip((t − start)/(end − start), 0, 1); defaults λ̂ = 1 over
      steps 50k → 75k, the paper's input-10 setting (input 2 uses 40k → 50k).

    The registered variant also takes the PyTorch port's clamp gradient for the
    gate, as the division paper's code does; since g is kept in [0, 1] and
    ``torch.clamp`` passes the gradient at the bounds, that equals straight-through.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        modified: the division paper's modified Real NPU (above).
        eps: ε added to |x| (1e-7).
        gate_gradient: ``"straight_through"`` (Julia reference) or ``"clamp"`` (PyTorch port).
        l1_start, l1_end, l1_growth, l1_interval: the L1 schedule.
        regularization_scale, regularization_start, regularization_end: λ̂ and the
            ramp of the modified penalties (unused unless ``modified``).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: W, (O, I) or (S, O, I), Xavier-uniform U[−√(6/(I+O)), √(6/(I+O))]
            (modified: U[−r, r] as above).
        gate: g, (I,) or (S, I), initialised 0.5.

    Examples:
        >>> unit = RealNPU(2, 1)
        >>> unit.load_state_dict(RealNPU.exact_solution("mul"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-18.]], grad_fn=<MulBackward0>)
    """

    name: ClassVar[str] = "RealNPU"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    default_lr: ClassVar[float] = 5e-3
    # r = |x| + ε: each factor is off by ε/|x| relative, 4e-6 at |x| = 0.025
    # (the smallest input of the generic suite).
    exact_rtol: ClassVar[float] = 1e-5
    variants: ClassVar[dict[str, dict[str, Any]]] = {"RealNPU-mod": {"modified": True, "gate_gradient": "clamp"}}

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        modified: bool = False,
        eps: float = 1e-7,
        gate_gradient: str = "straight_through",
        l1_start: float = 1e-9,
        l1_end: float = 1e-7,
        l1_growth: float = 10.0,
        l1_interval: int = 10_000,
        regularization_scale: float = 1.0,
        regularization_start: int = 50_000,
        regularization_end: int = 75_000,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if gate_gradient not in GATE_GRADIENTS:
            raise ValueError(f"gate_gradient must be one of {GATE_GRADIENTS}, not {gate_gradient!r}")
        self.modified = modified
        self.eps = eps
        self.gate_gradient = gate_gradient
        self.l1_start, self.l1_end, self.l1_growth, self.l1_interval = l1_start, l1_end, l1_growth, l1_interval
        self._set_ramp(regularization_scale, regularization_start, regularization_end)
        self.weight = self._parameter(out_features, in_features)
        self.gate = self._parameter(in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        bound = math.sqrt(6.0 / (self.in_features + self.out_features))
        if self.modified:
            bound = min(0.5, bound)  # the NAU's initialisation (Madsen & Johansen, ICLR 2020)
        sampler.uniform_(self.weight, -bound, bound)
        sampler.constant_(self.gate, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return npu(x, self.weight, None, clip_gate(self.gate, self.gate_gradient), self.eps)

    def l1_weight(self, step: int | torch.Tensor) -> float | torch.Tensor:
        """β(t) at ``step``: a float for an int step, else a tensor."""
        return l1_weight(step, self.l1_start, self.l1_end, self.l1_growth, self.l1_interval)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        penalty = self._like_parameters(self.l1_weight(step)) * (
            per_seed_sum(self.weight.abs(), self.n_seeds) + per_seed_sum(self.gate.abs(), self.n_seeds)
        )
        if self.modified:  # an option, fixed at construction: no branch on the step
            # Pull |W| to 1 and g to {0, 1} (division paper).
            weight_term = per_seed_mean((1.0 - self.weight.abs()).abs(), self.n_seeds)
            # min(|g|, |1 − g|) as nalm-division writes it: gradient 0 at g = 0 and g = 1.
            gate_term = per_seed_mean(torch.minimum(self.gate.abs(), (1.0 - self.gate).abs()), self.n_seeds)
            penalty = penalty + self._like_parameters(self.ramp_weight(step)) * (weight_term + gate_term)
        return penalty

    @torch.no_grad()
    def project_(self) -> None:
        if self.modified:
            self.weight.clamp_(-1.0, 1.0)
            self.gate.clamp_(0.0, 1.0)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return npu_expression(
            inputs,
            self._weights(self.weight, seed_index),
            None,
            self._weights(self.gate.clamp(0.0, 1.0), seed_index),
            self.eps,
        )

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        weight, gate = power_solution(cls.__name__, operation, in_features)
        return {"weight": weight, "gate": gate}

    def extra_repr(self) -> str:
        text = (
            f"{super().extra_repr()}, modified={self.modified}, eps={self.eps}, "
            f"gate_gradient={self.gate_gradient!r}, l1={self.l1_start}→{self.l1_end} "
            f"(×{self.l1_growth} every {self.l1_interval})"
        )
        if self.modified:
            text += (
                f", regularization={self.regularization_scale} over "
                f"{self.regularization_start}→{self.regularization_end}"
            )
        return text
