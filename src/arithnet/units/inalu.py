"""iNALU (Schlör, Ring & Hotho, Frontiers in AI 2020): NALU with separate weights, sign and restarts.

Compared with NALU: the adding and multiplying paths have their own weights,
the product path recovers the sign of the result and clamps its exponent,
the gate does not depend on x, a regulariser pushes every parameter away
from zero, gradients are clipped, and a seed whose loss stalls is started
again from fresh weights.
"""

from __future__ import annotations

import math
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


def loss_stalled(losses: torch.Tensor, window: int, loss_threshold: float) -> torch.Tensor:
    """iNALU's stall test on the last ``window`` losses (..., T), oldest first → (...) bool.

    Stalled: the first half's mean is at most the second half's mean plus
    the second half's (population) standard deviation, i.e. no clear progress,
    and the second half's mean is above ``loss_threshold``. Fewer than ``window`` losses, or a NaN
    among them, never count as stalled (every comparison with NaN is False).
    """
    if losses.shape[-1] < window:
        return torch.zeros(losses.shape[:-1], dtype=torch.bool, device=losses.device)
    recent = losses[..., -window:]
    first, second = recent[..., : window // 2], recent[..., window // 2 :]
    second_mean = second.mean(-1)
    return (first.mean(-1) <= second_mean + second.std(-1, correction=0)) & (second_mean > loss_threshold)


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

    **Training protocol** (iNALU paper and code), offered through the unit
    interface (:mod:`arithnet.units.base`) so that the engine needs no
    knowledge of this unit:

    - ``regularization(step)`` = 0.05·Σ_p mean(relu(20 − |p|)) over all five
      parameters, for seeds whose last reported interpolation MSE is below 1
      and only for step > 10,000. The engine reports that MSE (per seed) with
      ``observe_interpolation_mse(mse)``; until it does, the regulariser is off.
    - ``grad_clip_value`` = 0.1: the engine clips gradient values to ±0.1.
    - ``observes_loss`` is True: the engine hands every step's training losses
      to ``observe_loss(loss, step)``, which keeps the last ``stall_window`` of
      them and answers, every ``stall_check_every`` steps, which seeds have
      stalled (``loss_stalled``); ``reinitialize_(mask, sampler)`` draws fresh
      weights for those seeds and forgets their losses and interpolation fit.
      The engine then resets their optimiser moments.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        regularization_scale: 0.05 (= 1/20). regularization_threshold: 20.
        regularization_start: the regulariser is off up to this step (10,000).
        regularization_mse: interpolation MSE below which it is on (1.0).
        reinitialize_on_stall: False makes ``observe_loss`` always answer None.
        stall_window: losses looked at (5,000). stall_check_every: steps between
            checks (10). stall_loss: the second half's mean must exceed it (1.0).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        add_weight_hat, mul_weight_hat: Ŵ_a, Ŵ_m, (O, I) or (S, O, I), N(0.88, 0.2²).
        add_mask_hat, mul_mask_hat: M̂_a, M̂_m, (O, I) or (S, O, I), N(0.5, 0.2²).
        gate_hat: ĝ, (O,) or (S, O), N(0, 0.2²).
        interpolation_fit: (S,) or () bool buffer (not saved): last reported MSE < 1.
        loss_history: (S, stall_window) or (stall_window,) float64 buffer (not
            saved): ring buffer of the training losses, step t in column
            t mod stall_window; NaN where no loss has been seen since the start
            or the seed's last restart.
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
    observes_loss: ClassVar[bool] = True

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
        reinitialize_on_stall: bool = True,
        stall_window: int = 5_000,
        stall_check_every: int = 10,
        stall_loss: float = 1.0,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if stall_window < 2 or stall_check_every < 1:
            raise ValueError("stall_window must be at least 2 and stall_check_every at least 1")
        self.regularization_scale = regularization_scale
        self.regularization_threshold = regularization_threshold
        self.regularization_start = regularization_start
        self.regularization_mse = regularization_mse
        self.reinitialize_on_stall = reinitialize_on_stall
        self.stall_window = stall_window
        self.stall_check_every = stall_check_every
        self.stall_loss = stall_loss
        self.add_weight_hat = self._parameter(out_features, in_features)
        self.add_mask_hat = self._parameter(out_features, in_features)
        self.mul_weight_hat = self._parameter(out_features, in_features)
        self.mul_mask_hat = self._parameter(out_features, in_features)
        self.gate_hat = self._parameter(out_features)
        self.register_buffer("interpolation_fit", torch.zeros(self._shape(), dtype=torch.bool), persistent=False)
        history = torch.full(self._shape(stall_window), math.nan, dtype=torch.float64)
        self.register_buffer("loss_history", history, persistent=False)
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

    # -- training protocol ------------------------------------------------------
    def observe_interpolation_mse(self, mse: torch.Tensor | float) -> None:
        """Record each seed's latest interpolation MSE, (S,) or (); NaN counts as not below."""
        below = torch.as_tensor(mse).detach().to(self.interpolation_fit.device) < self.regularization_mse
        self.interpolation_fit.copy_(below.expand_as(self.interpolation_fit))

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        first_dim = 0 if self.n_seeds is None else 1
        penalty = sum(push_from_zero(p, self.regularization_threshold, first_dim) for p in self.parameters())
        active = self.interpolation_fit & (step > self.regularization_start)
        return self.regularization_scale * penalty * active.to(penalty.dtype)

    @torch.no_grad()
    def observe_loss(self, loss: torch.Tensor, step: int) -> torch.Tensor | None:
        """Record ``step``'s training losses (S,) or (); every ``stall_check_every`` steps, the stalled seeds.

        Steps come one after another, so the ring buffer holds the last
        ``stall_window`` steps. A seed whose window still holds a NaN (not yet
        ``stall_window`` losses since the start or its last restart) never counts as stalled.
        """
        if not self.reinitialize_on_stall:
            return None
        step = int(step)
        self.loss_history[..., step % self.stall_window] = torch.as_tensor(loss).detach().to(self.loss_history)
        if step % self.stall_check_every != 0:
            return None
        # Oldest first: the column after this step's holds the oldest loss.
        ordered = torch.roll(self.loss_history, -((step + 1) % self.stall_window), -1)
        return loss_stalled(ordered, self.stall_window, self.stall_loss)

    def _apply(self, fn, recurse=True):
        """As nn.Module's, but the loss history stays float64 whatever ``.float()`` or ``.to(dtype)`` asks.

        The stall test compares means and deviations in float64; and the buffer's
        dtype must not change once a compiled step has been traced with it.
        """
        super()._apply(fn, recurse)
        if self.loss_history.dtype != torch.float64:
            self.loss_history = self.loss_history.double()
        return self

    @torch.no_grad()
    def reinitialize_(self, mask: torch.Tensor, sampler: Sampler | None = None) -> None:
        """Fresh weights for the seeds in ``mask``, which also forget their interpolation fit and losses."""
        mask = torch.as_tensor(mask, dtype=torch.bool, device=self.interpolation_fit.device)
        super().reinitialize_(mask, sampler)
        self.interpolation_fit &= ~mask
        self.loss_history.masked_fill_(mask.unsqueeze(-1), math.nan)

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

    def extra_repr(self) -> str:
        stall = f", stall_window={self.stall_window}" if self.reinitialize_on_stall else ", reinitialize_on_stall=False"
        return f"{super().extra_repr()}{stall}"
