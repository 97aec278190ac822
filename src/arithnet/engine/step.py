"""One training step for every run: loss, gradients, clipping, Adam and projection.

The same body runs eagerly or as one compiled program. Eagerly, gradients
come from ``torch.autograd.grad``; compiled, from ``torch.func.grad`` over
``functional_call``, which torch.compile traces with the update and the
projection into a single graph. In the compiled step the step number and
learning rate are 0-d tensors (a Python number would be compiled in as a
constant and force a recompilation every step), and the parameters do not
require gradients, so that the update may change them in place inside the graph.

Shape letters: N runs, B batch, I inputs.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from arithnet.engine.adam import Adam
from arithnet.engine.clipping import clip_gradients_
from arithnet.engine.compiler import compiled
from arithnet.engine.losses import Loss
from arithnet.schedules import cosine
from arithnet.units import Unit


def lr_factor(schedule: str, step: int | torch.Tensor, steps: int) -> float | torch.Tensor:
    """The learning rate's multiplier at ``step`` (1-based): 1, or a cosine decay to 0 over ``steps``."""
    return 1.0 if schedule == "constant" else cosine(step, steps)


@runtime_checkable
class Step(Protocol):
    """What the loop needs of every step: GradientStep, or a recipe's own (the seed post's hand-written SGD).

    ``step(x, target, step_number)`` → each run's data loss (N,), changing
    ``unit``'s weights in place; ``finish()`` once training ends.
    """

    unit: Unit

    def __call__(self, x: torch.Tensor, target: torch.Tensor, step: int) -> torch.Tensor: ...

    def finish(self) -> None: ...


@runtime_checkable
class SelectsRuns(Protocol):
    """A step that multi-start selection can narrow to some runs: ``select(index)`` → a step for those runs."""

    def select(self, index: torch.Tensor) -> Step: ...


@runtime_checkable
class KeepsMoments(Protocol):
    """A step whose optimiser keeps per-run moments, which a restart may forget: ``reset_moments_(mask)``."""

    def reset_moments_(self, mask: torch.Tensor) -> None: ...


class Objective(nn.Module):
    """The data loss (N,) and the loss to minimise, data plus the unit's regularizer (N,)."""

    def __init__(self, unit: Unit, loss: Loss) -> None:
        super().__init__()
        self.unit = unit
        self.loss = loss

    def forward(self, x: torch.Tensor, target: torch.Tensor, step: int | torch.Tensor):
        data = self.loss(self.unit, x, target)
        return data, data + self.unit.regularization(step).to(data.dtype)


class GradientStep:
    """``step(x, target, step) -> data loss (N,)``, changing the unit's weights in place (a ``Step``).

    It also ``SelectsRuns`` (its Adam moments follow the runs) and ``KeepsMoments``.

    Args:
        unit: the runs' unit (N networks). loss: one of engine.losses.
        settings: the EngineConfig (lr, schedule, clipping, compile).
        notice: called with one line if compiling fails and the step runs eagerly.
    """

    def __init__(self, unit: Unit, loss: Loss, settings, notice=None) -> None:
        self.unit = unit
        self.objective = Objective(unit, loss)
        self.names = [name for name, _ in self.objective.named_parameters()]
        self.parameters = [p for _, p in self.objective.named_parameters()]
        self.optimizer = Adam(self.parameters)
        self.settings = settings
        self.compiled = compiled(self._functional, notice, what="training step") if settings.compile else None
        for p in self.parameters:
            p.requires_grad_(self.compiled is None)

    def __call__(self, x: torch.Tensor, target: torch.Tensor, step: int) -> torch.Tensor:
        if self.compiled is None:
            return self._eager(x, target, step)
        step_tensor = torch.tensor(float(step), dtype=torch.float64, device=x.device)
        loss = self.compiled(x, target, step_tensor)
        if loss is None:  # the compiler failed on the first call: eager from now on
            self.compiled = None
            for p in self.parameters:
                p.requires_grad_(True)
            return self._eager(x, target, step)
        return loss

    def select(self, index: torch.Tensor) -> GradientStep:
        """A step for runs ``index`` of these (multi-start selection), Adam's moments kept."""
        chosen = GradientStep(self.unit.select(index), self.objective.loss, self.settings)
        chosen.optimizer = self.optimizer.select(index, chosen.parameters)
        return chosen

    def reset_moments_(self, mask: torch.Tensor) -> None:
        """Forget the Adam moments of the runs in ``mask`` (N,): they start again."""
        self.optimizer.reset_(mask)

    def finish(self) -> None:
        """Give the parameters back their gradients after compiled training."""
        for p in self.parameters:
            p.requires_grad_(True)

    def _eager(self, x, target, step):
        data, total = self.objective(x, target, step)
        gradients = torch.autograd.grad(total.sum(), self.parameters)
        self._update(gradients, step)
        return data.detach()

    def _functional(self, x, target, step):
        def total_of(parameters):
            # tie_weights=False: no unit ties weights, and tying walks every buffer, which puts
            # guards on buffers the step never reads (a buffer that grows at every log, say).
            data, total = torch.func.functional_call(
                self.objective, dict(zip(self.names, parameters)), (x, target, step), tie_weights=False
            )
            return total.sum(), data

        gradients, data = torch.func.grad(total_of, has_aux=True)(tuple(self.parameters))
        self._update(gradients, step)
        return data

    @torch.no_grad()
    def _update(self, gradients, step) -> None:
        settings = self.settings
        clip_gradients_(gradients, settings.clip_grad_value, settings.clip_grad_norm)
        self.optimizer.update_(gradients, settings.lr * lr_factor(settings.lr_schedule, step, settings.steps), step)
        self.unit.project_()
