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


#: iNALU's restart rules: arithnet's window of training losses, the Primer's
#: PyTorch code (nalm-benchmark) and the original TF code (daschloer/inalu).
RESTART_RULES = ("window", "primer", "tf")
#: Losses each rule must hold, strictly more, before it may restart a run.
MIN_LOSSES = {"primer": 5_000, "tf": 10_000}
#: The TF code redraws every parameter from U[−2, 2] when it restarts.
TF_RESTART_BOUND = 2.0


def run_halves(count: torch.Tensor, mean: torch.Tensor, m2: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Mean of the first half, mean and population std of the second, and n, of runs (..., R).

    The losses since a restart are stored as runs, oldest first: run r holds
    ``count`` losses of mean ``mean`` and summed squared deviation ``m2``. The
    list of n losses splits as numpy slices it: the first n // 2, then the
    rest. A run cut by the split must be constant (m2 = 0; the Primer's
    logged MSE is), so its part keeps its mean; the second half's variance
    then combines the runs' parts exactly (Chan et al.'s pairwise formula).
    """
    # Runs a restart emptied may hold an old NaN: count 0 must weigh nothing.
    mean = torch.where(count > 0, mean, torch.zeros_like(mean))
    m2 = torch.where(count > 0, m2, torch.zeros_like(m2))
    n = count.sum(-1)
    before = count.cumsum(-1) - count
    first = (torch.div(n, 2, rounding_mode="floor").unsqueeze(-1) - before).clamp(min=0).minimum(count)
    second = count - first
    n_first, n_second = first.sum(-1), second.sum(-1)
    first_mean = (first * mean).sum(-1) / n_first
    second_mean = (second * mean).sum(-1) / n_second
    share = torch.where(count > 0, second / count.clamp(min=1), torch.zeros_like(count))
    deviation = torch.where(second > 0, mean - second_mean.unsqueeze(-1), torch.zeros_like(mean))
    second_var = (share * m2 + second * deviation.square()).sum(-1) / n_second
    return first_mean, second_mean, second_var.sqrt(), n


def runs_stalled(count, mean, m2, min_losses: int, loss_threshold: float) -> torch.Tensor:
    """iNALU's stall rule on the losses since the last restart, stored as runs (..., R) → (...) bool.

    More than ``min_losses`` losses, first half's mean ≤ second half's mean +
    its std, and second half's mean > ``loss_threshold``; NaN never stalls.
    """
    first_mean, second_mean, second_std, n = run_halves(count, mean, m2)
    return (n > min_losses) & (first_mean <= second_mean + second_std) & (second_mean > loss_threshold)


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

    **Restart rules** (``restart_rule``), which differ between the codes:

    - ``"window"`` (default, arithnet's): the last ``stall_window`` training
      losses, checked every ``stall_check_every`` steps; Adam's moments reset.
    - ``"primer"`` (nalm-benchmark, the Primer's numbers): after every step
      the latest logged validation MSE joins a list that restarts with each
      re-initialisation; with ``stall_check_every`` (10) dividing step − 1
      (the reference's 0-based epoch), step > 1 and more than
      ``stall_min_losses`` (5,000) entries, the whole list since the restart
      is split in halves. Adam's moments are kept (``restart_resets_optimizer``
      is False). The logged MSE only changes at a log, so the list is kept as
      one (count, value) run per log: at most steps / log_every + 1 runs per
      seed, and the halves, cut anywhere, come out exactly. Until the first
      log there is nothing to append; ``EngineConfig(log_step_zero=True)``
      logs at step 0 as the reference does.
    - ``"tf"`` (daschloer/inalu, the original): every training loss since the
      restart, more than ``stall_min_losses`` (10,000) of them; restarts
      redraw every parameter from U[−2, 2] and keep the optimiser's moments
      (the TF code reassigns the trainable variables only). Losses are kept as
      (count, mean, squared deviation) per block of ``stall_check_every``
      steps, and a seed is checked only when its halves fall on block edges,
      i.e. every 2·``stall_check_every`` steps after its restart: memory
      steps / stall_check_every per seed, exact halves.

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        regularization_scale: 0.05 (= 1/20). regularization_threshold: 20.
        regularization_start: the regulariser is off up to this step (10,000).
        regularization_mse: interpolation MSE below which it is on (1.0).
        reinitialize_on_stall: False makes ``observe_loss`` always answer None.
        stall_window: losses looked at (5,000). stall_check_every: steps between
            checks (10). stall_loss: the second half's mean must exceed it (1.0).
        restart_rule: ``"window"``, ``"primer"`` or ``"tf"`` (above).
        stall_min_losses: losses the "primer" and "tf" rules need, strictly
            more (None: 5,000 and 10,000, their codes' values).

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
        restart_rule: str = "window",
        stall_min_losses: int | None = None,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if stall_window < 2 or stall_check_every < 1:
            raise ValueError("stall_window must be at least 2 and stall_check_every at least 1")
        if restart_rule not in RESTART_RULES:
            raise ValueError(f"restart_rule must be one of {RESTART_RULES}, not {restart_rule!r}")
        self.restart_rule = restart_rule
        self.stall_min_losses = MIN_LOSSES.get(restart_rule, 0) if stall_min_losses is None else stall_min_losses
        # The codes of the Primer and of iNALU keep the optimiser's state on a restart.
        self.restart_resets_optimizer = restart_rule == "window"
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
        history = torch.full(self._shape(stall_window if restart_rule == "window" else 0), math.nan)
        self.register_buffer("loss_history", history.double(), persistent=False)
        # The "primer" and "tf" rules' losses since each run's restart, as runs (S, R): see run_halves.
        for name in ("run_count", "run_mean", "run_m2"):
            self.register_buffer(name, torch.zeros(self._shape(0), dtype=torch.float64), persistent=False)
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
        mse = torch.as_tensor(mse).detach().to(self.interpolation_fit.device)
        self.interpolation_fit.copy_((mse < self.regularization_mse).expand_as(self.interpolation_fit))
        if self.restart_rule == "primer":  # a new run of the logged value, empty until the next step appends
            self._new_run(mse.double().expand(self._shape()))

    def _new_run(self, value: torch.Tensor) -> None:
        """Append an empty run of mean ``value`` (S,) to every seed's run list."""
        self.run_count = torch.cat([self.run_count, torch.zeros_like(value).unsqueeze(-1)], -1)
        self.run_mean = torch.cat([self.run_mean, value.unsqueeze(-1)], -1)
        self.run_m2 = torch.cat([self.run_m2, torch.zeros_like(value).unsqueeze(-1)], -1)

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
        if self.restart_rule != "window":
            return self._observe_runs(torch.as_tensor(loss).detach(), step)
        self.loss_history[..., step % self.stall_window] = torch.as_tensor(loss).detach().to(self.loss_history)
        if step % self.stall_check_every != 0:
            return None
        # Oldest first: the column after this step's holds the oldest loss.
        ordered = torch.roll(self.loss_history, -((step + 1) % self.stall_window), -1)
        return loss_stalled(ordered, self.stall_window, self.stall_loss)

    def _observe_runs(self, loss: torch.Tensor, step: int) -> torch.Tensor | None:
        """The "primer" and "tf" rules (class docstring): append this step's entry, then check."""
        every = self.stall_check_every
        if self.restart_rule == "primer":
            if self.run_count.shape[-1] == 0:  # nothing logged yet: nothing to append
                return None
            self.run_count[..., -1] += 1  # the latest logged MSE, once more
            if (step - 1) % every != 0 or step <= 1:  # the reference's epoch = step − 1
                return None
            return runs_stalled(self.run_count, self.run_mean, self.run_m2, self.stall_min_losses, self.stall_loss)
        if (step - 1) % every == 0:  # a block starts
            self._new_run(torch.zeros(self._shape(), dtype=torch.float64, device=self.run_mean.device))
        self._welford_(loss.to(self.run_mean))
        if step % every != 0:
            return None
        aligned = torch.remainder(self.run_count.sum(-1), 2 * every) == 0
        stalled = runs_stalled(self.run_count, self.run_mean, self.run_m2, self.stall_min_losses, self.stall_loss)
        return stalled & aligned

    def _welford_(self, loss: torch.Tensor) -> None:
        """Add one loss per seed to the last block's count, mean and squared deviation (Welford)."""
        count = self.run_count[..., -1] + 1
        delta = loss - self.run_mean[..., -1]
        mean = self.run_mean[..., -1] + delta / count
        self.run_m2[..., -1] += delta * (loss - mean)
        self.run_mean[..., -1] = mean
        self.run_count[..., -1] = count

    def redraw_parameters_(self, sampler: Sampler | None = None) -> None:
        """A restart's weights: the initial distribution, or U[−2, 2] for every parameter under the "tf" rule."""
        if self.restart_rule != "tf":
            self.reset_parameters(sampler)
            return
        sampler = sampler or Sampler()
        for parameter in self.parameters():
            sampler.uniform_(parameter, -TF_RESTART_BOUND, TF_RESTART_BOUND)

    def _apply(self, fn, recurse=True):
        """As nn.Module's, but the loss history stays float64 whatever ``.float()`` or ``.to(dtype)`` asks.

        The stall test compares means and deviations in float64; and the buffer's
        dtype must not change once a compiled step has been traced with it.
        """
        super()._apply(fn, recurse)
        for name in ("loss_history", "run_count", "run_mean", "run_m2"):
            if getattr(self, name).dtype != torch.float64:
                setattr(self, name, getattr(self, name).double())
        return self

    @torch.no_grad()
    def reinitialize_(self, mask: torch.Tensor, sampler: Sampler | None = None) -> None:
        """Fresh weights for the seeds in ``mask``, which also forget their interpolation fit and losses."""
        mask = torch.as_tensor(mask, dtype=torch.bool, device=self.interpolation_fit.device)
        super().reinitialize_(mask, sampler)
        self.interpolation_fit &= ~mask
        self.loss_history.masked_fill_(mask.unsqueeze(-1), math.nan)
        self.run_count.masked_fill_(mask.unsqueeze(-1), 0.0)  # the list restarts with the run

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
        if not self.reinitialize_on_stall:
            return f"{super().extra_repr()}, reinitialize_on_stall=False"
        if self.restart_rule == "window":
            return f"{super().extra_repr()}, stall_window={self.stall_window}"
        return f"{super().extra_repr()}, restart_rule={self.restart_rule!r}, stall_min_losses={self.stall_min_losses}"
