"""NRU: the Neural Reciprocal Unit, y = ∏_i (sign(x_i)·|x_i|^{W_i}·t_i + 1 − t_i).

Mistry, Farrahi & Hare, "Learning Division with Neural Arithmetic Logic
Modules", arXiv 2110.05177 (code: bmistry4/nalm-division).
"""

from __future__ import annotations

import math
from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler
from arithnet.units.ramp import RampedRegularization

#: Steepness of the training-time selection tanh(1000·W)² (division paper).
SELECTION_STEEPNESS = 1000.0


def selection(weight: torch.Tensor, training: bool) -> torch.Tensor:
    """t = tanh(1000·W)² in training (≈ 1 unless W ≈ 0), |W| at evaluation."""
    return torch.tanh(SELECTION_STEEPNESS * weight).square() if training else weight.abs()


def exp_limit(dtype: torch.dtype) -> float:
    """The largest z of ``dtype`` whose exp(z) is finite: 88.72 in float32, 709.78 in float64."""
    limit = torch.tensor(math.log(torch.finfo(dtype).max), dtype=dtype)
    while not torch.isfinite(torch.exp(limit)):
        limit = torch.nextafter(limit, torch.zeros_like(limit))
    return float(limit)


#: exp_limit per float dtype, computed once (a compiled step must not run the search).
EXP_LIMITS = {dtype: exp_limit(dtype) for dtype in (torch.float32, torch.float64)}


def signed_power(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """sign(x_i)·|x_i|^{W_oi}, (..., B, O, I), as sign·exp(W·log|x|): the reference's value wherever it is finite.

    Guards only where the division paper's code gives NaN or inf (docs/faithfulness.md):

    - x = 0: sign(0) = 0 makes the term 0; |x| is read as 1 there so that
      0^W (inf for W < 0, NaN times 0) and log 0 never appear. The reference
      gives the same 0 for W ≥ 0 and NaN for W < 0.
    - 0 < |x| < ``eps``: the value is exact, but the gradient with respect to
      x (∝ |x|^{W−1}) is cut, since it overflows where the reference's does.
    - W·log|x| above the dtype's exp limit (where |x|^W itself overflows) is clamped.
    """
    magnitude = x.abs()
    log_magnitude = torch.log(torch.where(magnitude == 0, torch.ones_like(magnitude), magnitude))
    log_magnitude = torch.where(magnitude < eps, log_magnitude.detach(), log_magnitude).unsqueeze(-2)
    power = torch.exp((weight.unsqueeze(-3) * log_magnitude).clamp_max(EXP_LIMITS[x.dtype]))
    return torch.sign(x).unsqueeze(-2) * power


def nru(x: torch.Tensor, weight: torch.Tensor, training: bool, eps: float) -> torch.Tensor:
    """y_o = ∏_i (sign(x_i)·|x_i|^{W_oi}·t_oi + (1 − t_oi)); (1 − t) first keeps t = 1 exact."""
    x = x.to(weight.dtype)
    t = selection(weight, training).unsqueeze(-3)  # (..., 1, O, I)
    return (signed_power(x, weight, eps) * t + (1.0 - t)).prod(-1)


def nru_sparsity(weight: torch.Tensor, n_seeds: int | None) -> torch.Tensor:
    """mean(min(|W|, |1 − |W||)) per seed, (S,) or (): the NAU's penalty, with the reference's gradient."""
    magnitude = weight.abs()
    penalty = torch.minimum(magnitude, (1.0 - magnitude).abs())
    return penalty.reshape(-1 if n_seeds is None else (n_seeds, -1)).mean(-1)


class NRU(RampedRegularization, Unit):
    r"""Neural Reciprocal Unit.

    .. math:: y_o = \prod_i \big(\operatorname{sign}(x_i)\,|x_i|^{W_{oi}}\, t_{oi} + 1 - t_{oi}\big),
              \quad t = \tanh(1000\,W)^{\circ 2} \text{ (training)}, \quad t = |W| \text{ (evaluation)}

    Each input is raised to a power in [−1, 1] or, where t = 0, replaced by 1.
    Division is W = [1, −1], multiplication W = [1, 1]; signs are kept.
    Training and evaluation differ (``self.training``): the steep tanh selects
    any non-zero weight fully while training; at evaluation |W| selects in
    proportion, so a weight that has not reached 0 or ±1 shows.

    W is clamped to [−1, 1] after every step. The penalty is the NAU's,
    λ(t)·mean(min(|W|, 1 − |W|)) with λ(t) = λ̂·clip((t − start)/(end − start), 0, 1);
    defaults λ̂ = 10 over 50k → 75k, the division paper's input-10 setting
    (input 2: 20k → 35k, as in the Primer).

    ``default_lr`` is the paper's input-10 learning rate 1e-3; its input-2
    configuration uses lr 1.

    Zero inputs: sign(0) = 0, as in the paper, so a selected input that is 0
    contributes the factor 1 − t = 0 whatever its exponent: x·0 = 0 exactly
    and x/0 reads as 0 (the reference gives NaN there). Any other input gives
    the reference's value, however small (1e-9·2 is 2e-9); see ``signed_power``
    for the only guards, which act where the reference gives NaN or inf.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        eps: below this |x| the input's own gradient is cut (1e-7); values are exact.
        regularization_scale, regularization_start, regularization_end: λ̂ and the ramp.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight: W, (O, I) or (S, O, I), NAU initialisation U[−r, r],
            r = min(0.5, √(6/(I + O))).

    Examples:
        >>> unit = NRU(2, 1)
        >>> unit.load_state_dict(NRU.exact_solution("div"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-2.0000]], grad_fn=<ProdBackward1>)
    """

    name: ClassVar[str] = "NRU"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    default_lr: ClassVar[float] = 1e-3

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        eps: float = 1e-7,
        regularization_scale: float = 10.0,
        regularization_start: int = 50_000,
        regularization_end: int = 75_000,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.eps = eps
        self._set_ramp(regularization_scale, regularization_start, regularization_end)
        self.weight = self._parameter(out_features, in_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        # The NAU's initialisation (Madsen & Johansen, ICLR 2020).
        bound = min(0.5, math.sqrt(6.0 / (self.in_features + self.out_features)))
        (sampler or Sampler()).uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nru(x, self.weight, self.training, self.eps)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        return self._like_parameters(self.ramp_weight(step)) * nru_sparsity(self.weight, self.n_seeds)

    @torch.no_grad()
    def project_(self) -> None:
        self.weight.clamp_(-1.0, 1.0)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """∏ ((x/|x|)·|x|^W·t + 1 − t) with t of the current mode.

        sign(x) is written x/|x| so that at W = ±1 the factor reads x or
        x/|x|² = 1/x; the ε floor is a numerical guard and is left out.
        """
        weights = self._weights(self.weight, seed_index)
        selections = self._weights(selection(self.weight, self.training), seed_index)
        outputs = []
        for row, row_t in zip(weights, selections):
            factors = []
            for x, w, t in zip(inputs, row, row_t):
                t = sympy.Float(t)
                factors.append(x / sympy.Abs(x) * sympy.Abs(x) ** sympy.Float(w) * t + 1 - t)
            outputs.append(sympy.Mul(*factors))
        return outputs

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        powers = {"mul": 1.0, "div": -1.0}
        if operation not in powers or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight = torch.zeros(1, in_features)
        weight[0, 0], weight[0, 1] = 1.0, powers[operation]
        return {"weight": weight}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, eps={self.eps}, regularization={self.regularization_scale} over "
            f"{self.regularization_start}→{self.regularization_end}"
        )
