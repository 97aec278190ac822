"""Training rules as engine callbacks: what the loop calls besides the step, and the restart it carries out.

A unit is its maths; how it is trained beyond the loss, the regularizer and
its projection is a rule that the code training it supplies
(``Problem.callbacks``), such as iNALU's restarts of stalled runs or
RatioNet's snapping of near-integer weights (``arithnet.training.rules``).
A callback holds its own per-run state, indexed by run like the unit's
weights. Shape letters: N runs.

The loop calls, for every callback in order:

- after each step (the optimiser step and the unit's ``project_``):
  ``after_step(unit, step)``, which may change the weights in place (a snap);
  then ``on_step(step, loss)`` with each run's data loss (N,), which answers a
  bool mask (N,) of runs to start again, or None;
- at each evaluation, ``on_log(step, metrics)`` with the metrics (N,) each;
- for each mask with a run in it, ``restart_``: every run's weights are drawn
  anew by the asking callback's ``redraw_(unit, sampler)``, with a sampler
  keyed by the run's key and restart count, and only the masked runs keep
  them; the unit (``RunState``) and every callback (``on_restart(mask)``)
  forget those runs; the optimiser forgets their moments if the asking
  callback's ``resets_optimizer`` says so;
- at multi-start selection, ``select(index)``: a callback for the runs ``index``.
"""

from __future__ import annotations

import torch

from arithnet.units import RunState, Sampler, Unit


class Callback:
    """A training rule the engine's loop calls; every hook of this base does nothing (module docstring)."""

    #: Whether a restart this callback asks for also forgets the runs' optimiser moments.
    resets_optimizer: bool = True

    def after_step(self, unit: Unit, step: int) -> None:
        """Change the weights in place after ``step``'s update and projection."""

    def on_step(self, step: int, loss: torch.Tensor) -> torch.Tensor | None:
        """The runs (N,) bool to start again after ``step``, given its data losses (N,); None for none."""
        return None

    def on_log(self, step: int, metrics: dict[str, torch.Tensor]) -> None:
        """The evaluation's metrics at ``step``, each (N,) (``"valid"``: the interpolation MSE)."""

    def redraw_(self, unit: Unit, sampler: Sampler | None) -> None:
        """Draw every run's weights for a restart this callback asked for: the initial distribution by default."""
        unit.reset_parameters(sampler)

    def on_restart(self, mask: torch.Tensor) -> None:
        """The runs in ``mask`` (N,) start again: forget what this callback keeps of them."""

    def select(self, index: torch.Tensor) -> Callback:
        """This callback for the runs ``index`` (K,) only, indices may repeat; itself when it keeps nothing per run."""
        return self


class NaNReset(Callback):
    """A run whose weights went NaN (a ratio or a sum blew up) gets ``value`` in their place after each step, which
    starts it again near the constant law. ``parameter`` names the unit's weight; its other runs are untouched."""

    def __init__(self, parameter: str, value: float):
        self.parameter, self.value = parameter, value

    @torch.no_grad()
    def after_step(self, unit: Unit, step: int) -> None:
        getattr(unit, self.parameter).nan_to_num_(nan=self.value)


@torch.no_grad()
def restart_(
    unit: Unit,
    mask: torch.Tensor,
    sampler: Sampler | None = None,
    rule: Callback | None = None,
    callbacks: tuple[Callback, ...] | list[Callback] = (),
) -> None:
    """Start the runs in ``mask`` (N,) again: fresh weights from ``rule.redraw_``, and everyone forgets them.

    Every run is drawn and only the masked ones are kept, so with a keyed
    ``Sampler`` a run's new weights depend on its own stream alone. ``rule``
    None draws from the unit's initial distribution.
    """
    mask = torch.as_tensor(mask, dtype=torch.bool)
    previous = [parameter.clone() for parameter in unit.parameters()]
    (rule or Callback()).redraw_(unit, sampler)
    for parameter, before in zip(unit.parameters(), previous):
        chosen = mask.reshape(mask.shape + (1,) * (parameter.dim() - mask.dim())).to(parameter.device)
        parameter.copy_(torch.where(chosen, parameter, before))
    if isinstance(unit, RunState):
        unit.forget_runs_(mask)
    for callback in callbacks:
        callback.on_restart(mask)
