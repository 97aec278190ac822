"""iNALU's restarts of stalled runs (iNALU paper and codes): an engine callback, not a part of the unit.

A run whose loss stalls is started again from fresh weights. The three codes
differ in what they watch and when, so there are three rules
(``restart_rule``):

- ``"window"`` (default, arithnet's): the last ``stall_window`` training
  losses, checked every ``stall_check_every`` steps; Adam's moments reset.
- ``"primer"`` (nalm-benchmark, the Primer's numbers): after every step
  the latest logged validation MSE joins a list that restarts with each
  re-initialisation; with ``stall_check_every`` (10) dividing step − 1
  (the reference's 0-based epoch), step > 1 and more than
  ``stall_min_losses`` (5,000) entries, the whole list since the restart
  is split in halves. Adam's moments are kept (``resets_optimizer`` is
  False). The logged MSE only changes at a log, so the list is kept as
  one (count, value) run per log: at most steps / log_every + 1 runs per
  seed, and the halves, cut anywhere, come out exactly. Until the first
  log there is nothing to append; ``EngineConfig(log_step_zero=True)``
  logs at step 0 as the reference does.
- ``"tf"`` (daschloer/inalu, the original): every training loss since the
  restart, more than ``stall_min_losses`` (10,000) of them; restarts
  redraw every parameter of the iNALU units from U[−2, 2] and keep the
  optimiser's moments (the TF code reassigns the trainable variables only).
  Losses are kept as (count, mean, squared deviation) per block of
  ``stall_check_every`` steps, and a seed is checked only when its halves
  fall on block edges, i.e. every 2·``stall_check_every`` steps after its
  restart: memory steps / stall_check_every per seed, exact halves.

The stall tests themselves are in ``training.rules.stalls``. Shape letters:
S runs (() for a unit without seeds), R runs of equal losses.
"""

from __future__ import annotations

import copy
import math

import torch

from arithnet.engine.callbacks import Callback
from arithnet.training.rules.stalls import loss_stalled, runs_stalled
from arithnet.units import INALU, Sampler, Unit, layers

#: iNALU's restart rules: arithnet's window of training losses, the Primer's
#: PyTorch code (nalm-benchmark) and the original TF code (daschloer/inalu).
RESTART_RULES = ("window", "primer", "tf")
#: Losses each rule must hold, strictly more, before it may restart a run.
MIN_LOSSES = {"primer": 5_000, "tf": 10_000}
#: The TF code redraws every parameter from U[−2, 2] when it restarts.
TF_RESTART_BOUND = 2.0
#: The per-run state a rule keeps, each (S, ...) float64.
STATE = ("loss_history", "run_count", "run_mean", "run_m2")


class InaluRestarts(Callback):
    """iNALU's restarts of stalled runs, under one of the three rules (module docstring).

    Args:
        n_runs: S, the runs of the unit it watches (None: a unit without seeds).
        restart_rule: ``"window"``, ``"primer"`` or ``"tf"``.
        stall_window: losses the window rule looks at (5,000).
        stall_check_every: steps between checks (10).
        stall_loss: the second half's mean must exceed it (1.0).
        stall_min_losses: losses the "primer" and "tf" rules need, strictly
            more (None: 5,000 and 10,000, their codes' values).
        device: where the state lives (the unit's device).

    Attributes:
        loss_history: (S, stall_window) float64 under the window rule, else
            (S, 0): ring buffer of the training losses, step t in column
            t mod stall_window; NaN where no loss has been seen since the
            start or the run's last restart.
        run_count, run_mean, run_m2: (S, R) float64, the "primer" and "tf"
            rules' losses since each run's restart, as runs (stalls.run_halves).
    """

    def __init__(
        self,
        n_runs: int | None = None,
        *,
        restart_rule: str = "window",
        stall_window: int = 5_000,
        stall_check_every: int = 10,
        stall_loss: float = 1.0,
        stall_min_losses: int | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        if stall_window < 2 or stall_check_every < 1:
            raise ValueError("stall_window must be at least 2 and stall_check_every at least 1")
        if restart_rule not in RESTART_RULES:
            raise ValueError(f"restart_rule must be one of {RESTART_RULES}, not {restart_rule!r}")
        self.n_runs, self.restart_rule = n_runs, restart_rule
        self.stall_min_losses = MIN_LOSSES.get(restart_rule, 0) if stall_min_losses is None else stall_min_losses
        # The codes of the Primer and of iNALU keep the optimiser's state on a restart.
        self.resets_optimizer = restart_rule == "window"
        self.stall_window, self.stall_check_every, self.stall_loss = stall_window, stall_check_every, stall_loss
        width = stall_window if restart_rule == "window" else 0
        self.loss_history = torch.full(self._shape(width), math.nan, dtype=torch.float64, device=device)
        for name in ("run_count", "run_mean", "run_m2"):
            setattr(self, name, torch.zeros(self._shape(0), dtype=torch.float64, device=device))

    def _shape(self, *shape: int) -> tuple[int, ...]:
        return shape if self.n_runs is None else (self.n_runs, *shape)

    @torch.no_grad()
    def on_step(self, step: int, loss: torch.Tensor) -> torch.Tensor | None:
        """Record ``step``'s training losses (S,) or (); the stalled runs when a check is due, else None.

        Under the window rule steps come one after another, so the ring buffer
        holds the last ``stall_window`` steps. A run whose window still holds
        a NaN (not yet ``stall_window`` losses since the start or its last
        restart) never counts as stalled.
        """
        step = int(step)
        if self.restart_rule != "window":
            return self._observe_runs(torch.as_tensor(loss).detach(), step)
        self.loss_history[..., step % self.stall_window] = torch.as_tensor(loss).detach().to(self.loss_history)
        if step % self.stall_check_every != 0:
            return None
        # Oldest first: the column after this step's holds the oldest loss.
        ordered = torch.roll(self.loss_history, -((step + 1) % self.stall_window), -1)
        return loss_stalled(ordered, self.stall_window, self.stall_loss)

    def on_log(self, step: int, metrics: dict[str, torch.Tensor]) -> None:
        """Under the Primer's rule the logged validation MSE starts a new run, empty until the next step appends."""
        if self.restart_rule == "primer":
            mse = torch.as_tensor(metrics["valid"]).detach().to(self.run_mean.device)
            self._new_run(mse.double().expand(self._shape()))

    def _new_run(self, value: torch.Tensor) -> None:
        """Append an empty run of mean ``value`` (S,) to every run's list."""
        self.run_count = torch.cat([self.run_count, torch.zeros_like(value).unsqueeze(-1)], -1)
        self.run_mean = torch.cat([self.run_mean, value.unsqueeze(-1)], -1)
        self.run_m2 = torch.cat([self.run_m2, torch.zeros_like(value).unsqueeze(-1)], -1)

    def _observe_runs(self, loss: torch.Tensor, step: int) -> torch.Tensor | None:
        """The "primer" and "tf" rules (module docstring): append this step's entry, then check."""
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
        """Add one loss per run to the last block's count, mean and squared deviation (Welford)."""
        count = self.run_count[..., -1] + 1
        delta = loss - self.run_mean[..., -1]
        mean = self.run_mean[..., -1] + delta / count
        self.run_m2[..., -1] += delta * (loss - mean)
        self.run_mean[..., -1] = mean
        self.run_count[..., -1] = count

    def redraw_(self, unit: Unit, sampler: Sampler | None) -> None:
        """A restart's weights: the initial distribution, or U[−2, 2] for every iNALU parameter under the "tf" rule.

        Under the "tf" rule the other units of a stack draw from their initial
        distributions, in the stack's order, as the codes' other layers do.
        """
        if self.restart_rule != "tf":
            unit.reset_parameters(sampler)
            return
        sampler = sampler or Sampler()
        for layer in layers(unit):
            if not isinstance(layer, INALU):
                layer.reset_parameters(sampler)
                continue
            for parameter in layer.parameters():
                sampler.uniform_(parameter, -TF_RESTART_BOUND, TF_RESTART_BOUND)

    @torch.no_grad()
    def on_restart(self, mask: torch.Tensor) -> None:
        """The restarted runs forget their losses: the list restarts with the run."""
        mask = torch.as_tensor(mask, dtype=torch.bool, device=self.loss_history.device).unsqueeze(-1)
        self.loss_history.masked_fill_(mask, math.nan)
        self.run_count.masked_fill_(mask, 0.0)

    def select(self, index: torch.Tensor) -> InaluRestarts:
        """The rule for the runs ``index`` (K,), each run's losses kept (multi-start selection)."""
        if self.n_runs is None:
            raise ValueError("select needs a rule built with n_runs")
        index = torch.as_tensor(index, dtype=torch.int64).reshape(-1)
        chosen = copy.copy(self)
        chosen.n_runs = len(index)
        for name in STATE:
            state = getattr(self, name)
            setattr(chosen, name, state[index.to(state.device)])
        return chosen


def inalu_restarts(
    unit: Unit,
    *,
    reinitialize_on_stall: bool = True,
    restart_rule: str = "window",
    stall_window: int = 5_000,
    stall_check_every: int = 10,
    stall_loss: float = 1.0,
    stall_min_losses: int | None = None,
) -> list[Callback]:
    """The restarts iNALU trains with, for ``unit`` (an iNALU or a stack holding one); none without restarts.

    The options are the benchmark's unit options (``--unit-option
    restart_rule=primer``); ``reinitialize_on_stall=False`` turns restarts off
    (the other options are still checked).
    """
    parameter = next(unit.parameters())
    rule = InaluRestarts(
        unit.n_seeds,
        restart_rule=restart_rule,
        stall_window=stall_window,
        stall_check_every=stall_check_every,
        stall_loss=stall_loss,
        stall_min_losses=stall_min_losses,
        device=parameter.device,
    )
    return [rule] if reinitialize_on_stall else []
