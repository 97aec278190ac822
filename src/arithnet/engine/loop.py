"""The training loop: S runs as one tensor program, composed of the engine's parts.

Per step: the batch, the (possibly compiled) gradient step, the training
rules (``engine.callbacks``: a snap, restarts), the multi-start window, the
snapshot history, and every ``log_every`` steps the evaluation with best-step
tracking. Shape letters: S runs, N networks (S × starts before selection, S after).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from arithnet import random as counter_random
from arithnet.engine.callbacks import Callback, restart_
from arithnet.engine.compiler import compiled_stance, fresh_compiler, prepare_cache
from arithnet.engine.config import EngineConfig, Problem
from arithnet.engine.history import History
from arithnet.engine.losses import check_loss, get_loss
from arithnet.engine.step import GradientStep, KeepsMoments, SelectsRuns, Step
from arithnet.engine.tracking import BestStep
from arithnet.units import Sampler, Unit, WatchesInterpolation

#: Called with the number of steps done so far.
ProgressCallback = Callable[[int], None]
#: Makes the step object from the unit and the settings: a ``Step`` (engine.step).
#: GradientStep (autograd or torch.func, Adam, clipping, projection) is the
#: default; the seed post's recipes bring their hand-written updates. Multi-start
#: selection needs a step that ``SelectsRuns``; a restart forgets the moments of
#: a step that ``KeepsMoments``.
StepFactory = Callable[[Unit, EngineConfig], Step]
#: Called at every log step with the step and the evaluation's metrics (S,).
LogCallback = Callable[[int, dict[str, torch.Tensor]], None]


@dataclass
class Fit:
    """The trained runs: the unit (S networks; best weights if evaluated), their record."""

    unit: Unit
    initial: dict[str, torch.Tensor]  # each parameter at step 0, (S, *shape)
    history: History | None
    best: BestStep | None
    restarts: torch.Tensor  # (S,) restarts asked by the training rules
    #: Per-run results a recipe adds after training, e.g. {"verified": (S,) bool}.
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


def _gradient_step(unit: Unit, config: EngineConfig) -> GradientStep:
    return GradientStep(unit, get_loss(config.loss), config)


def repeat_runs(target: torch.Tensor, n_starts: int) -> torch.Tensor:
    """Each run's targets once per start; one row expanded to every run stays an expanded view (no copy)."""
    if target.stride(0) == 0:
        return target[:1].expand(len(target) * n_starts, *target.shape[1:])
    return target.repeat_interleave(n_starts, 0)


def start_keys(keys: torch.Tensor, n_starts: int) -> torch.Tensor:
    """Keys (S·n_starts,): start r of run s draws from its own stream, derived from the run's."""
    if n_starts == 1:
        return keys
    return counter_random.derive(keys.repeat_interleave(n_starts), torch.arange(n_starts).repeat(len(keys)))


class Training:
    """One call of ``fit``: its state, and a short method per part of a step."""

    def __init__(
        self, problem: Problem, config: EngineConfig, on_log: LogCallback | None, make_step: StepFactory | None
    ) -> None:
        if config.compile and not prepare_cache():  # no cache to compile into: eagerly (prepare_cache said so)
            config = dataclasses.replace(config, compile=False)
        self.problem, self.config, self.on_log = problem, config, on_log
        if config.compile:
            fresh_compiler()
        self.n_starts = config.n_starts
        self.keys = start_keys(problem.keys, self.n_starts)
        unit = problem.build(len(self.keys))
        check_loss(config.loss, type(unit))
        (problem.initialize or type(unit).reset_parameters)(unit, Sampler(self.keys))
        unit.train()
        self.initial = {name: p.detach().clone() for name, p in unit.named_parameters()}
        self.step_fn = (make_step or _gradient_step)(unit, config)
        if self.n_starts > 1 and not isinstance(self.step_fn, SelectsRuns):
            raise ValueError("several starts need a training step that can select runs (select(index))")
        self.callbacks: list[Callback] = list(problem.callbacks(unit)) if problem.callbacks else []
        self.history = History(unit, config.steps, config.n_snapshots) if config.n_snapshots else None
        if self.history is not None:
            self.history.record(0, unit, None)
        self.best = BestStep(unit) if config.log_every and problem.evaluate else None
        self.restarts = torch.zeros(len(self.keys), dtype=torch.int64)
        self.window_loss = torch.zeros(len(self.keys), dtype=torch.float64, device=self.initial_device)
        if config.log_step_zero and self.best is not None:
            self.log(0)  # the untrained model, as the reference codes log it: it may be the best step

    @property
    def unit(self) -> Unit:
        return self.step_fn.unit

    @property
    def initial_device(self) -> torch.device:
        return next(iter(self.initial.values())).device

    def run(self, progress: ProgressCallback | None) -> Fit:
        """Every step, in segments that each start with a new step program (the first, and after selection).

        A segment's first step compiles its program with guards on; the rest
        of the segment runs without guard checks (``compiled_stance``).
        """
        config = self.config
        starts = [1, config.select_at + 1] if self.n_starts > 1 else [1]
        for first, stop in zip(starts, [*starts[1:], config.steps + 1]):
            self.steps(first, first + 1, progress)
            with compiled_stance(config.compile):
                self.steps(first + 1, stop, progress)
        return self.finish()

    def steps(self, first: int, stop: int, progress: ProgressCallback | None) -> None:
        config = self.config
        for step in range(first, stop):
            if self.n_starts > 1 and step == config.select_at + 1:
                self.select_starts()
            x, target = self.problem.batch(step)
            if self.n_starts > 1:  # all starts of a run see the run's own batches; a (B, I) x is everyone's
                x = x.repeat_interleave(self.n_starts, 0) if x.dim() == 3 else x
                target = repeat_runs(target, self.n_starts)
            loss = self.step_fn(x, target, step)
            self.after_step(step, loss)
            if progress is not None and (step % config.progress_every == 0 or step == config.steps):
                progress(step)

    def after_step(self, step: int, loss: torch.Tensor) -> None:
        config = self.config
        for callback in self.callbacks:
            callback.after_step(self.unit, step)
        for callback in self.callbacks:
            self.restart(callback.on_step(step, loss), callback)
        if self.n_starts > 1 and config.select_at - config.select_window < step <= config.select_at:
            self.window_loss += loss.double()
        if self.history is not None:
            self.history.record(step, self.unit, loss, final=step == config.steps)
        if self.best is not None and (step % config.log_every == 0 or step == config.steps):
            self.log(step)

    def restart(self, mask: torch.Tensor | None, rule: Callback) -> None:
        """Fresh weights (and moments, if the rule asks) for the runs in ``mask``, from keys derived from theirs."""
        if mask is None or not bool(mask.any()):
            return
        self.restarts += mask.long().cpu()
        sampler = Sampler(counter_random.derive(self.keys, self.restarts))
        restart_(self.unit, mask, sampler, rule, self.callbacks)
        if rule.resets_optimizer and isinstance(self.step_fn, KeepsMoments):  # iNALU's reference codes keep them
            self.step_fn.reset_moments_(mask)

    def select_starts(self) -> None:
        """Each run keeps its start with the lowest loss over the window; a NaN loss never wins."""
        losses = torch.nan_to_num(self.window_loss, nan=math.inf).view(-1, self.n_starts)
        chosen = torch.arange(len(losses)) * self.n_starts + losses.argmin(1).cpu()
        self.step_fn = self.step_fn.select(chosen)
        self.callbacks = [callback.select(chosen) for callback in self.callbacks]
        self.initial = {name: value[chosen] for name, value in self.initial.items()}
        self.keys, self.restarts = self.keys[chosen], self.restarts[chosen]
        for record in (self.history, self.best):
            if record is not None:
                record.select(chosen)
        self.n_starts = 1

    @torch.no_grad()
    def log(self, step: int) -> None:
        self.unit.eval()
        metrics = self.problem.evaluate(self.unit)
        self.unit.train()
        if isinstance(self.unit, WatchesInterpolation):
            self.unit.observe_interpolation_mse(metrics["valid"])
        for callback in self.callbacks:
            callback.on_log(step, metrics)
        self.best.update(step, metrics, self.unit)
        if self.on_log is not None:
            self.on_log(step, metrics)

    def finish(self) -> Fit:
        self.step_fn.finish()
        if self.best is not None:
            self.best.restore(self.unit)
        self.unit.eval()
        return Fit(self.unit, self.initial, self.history, self.best, self.restarts)


def fit(
    problem: Problem,
    config: EngineConfig,
    progress: ProgressCallback | None = None,
    on_log: LogCallback | None = None,
    make_step: StepFactory | None = None,
) -> Fit:
    """Train ``len(problem.keys)`` runs as one tensor program with ``config``; see ``Training``."""
    return Training(problem, config, on_log, make_step).run(progress)
