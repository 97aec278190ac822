"""What the engine needs to know to train: the settings (a dataclass) and the problem (callables)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from arithnet.checks import check_count, check_positive
from arithnet.engine.callbacks import Callback
from arithnet.engine.losses import LOSSES
from arithnet.units import Sampler, Unit

SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class EngineConfig:
    """How to train N runs at once.

    Attributes:
        steps: optimiser steps. lr: Adam's learning rate at step 1.
        loss: "mse", "relative" or "log" (engine.losses).
        lr_schedule: "constant" or "cosine" (decay to 0 over ``steps``).
        clip_grad_value, clip_grad_norm: per-run clipping, None for none.
        n_starts: starts per run; at ``select_at`` each run keeps the start with
            the lowest mean loss over the last ``select_window`` steps.
        log_every: steps between evaluations (best-step tracking); 0 for none.
        log_step_zero: also evaluate and log the untrained model, at step 0,
            as the reference codes do; it then counts for the best step (and
            for whatever the log callback computes, such as solved-at).
        n_snapshots: weight and loss snapshots kept (History); 0 for none.
        progress_every: steps between progress calls.
        compile: run the step as one compiled program.
    """

    steps: int
    lr: float
    loss: str = "mse"
    lr_schedule: str = "constant"
    clip_grad_value: float | None = None
    clip_grad_norm: float | None = None
    n_starts: int = 1
    select_at: int = 0
    select_window: int = 20
    log_every: int = 0
    log_step_zero: bool = False
    n_snapshots: int = 0
    progress_every: int = 1
    compile: bool = False

    def __post_init__(self) -> None:
        check_count("steps", self.steps)
        check_positive("learning rate", self.lr)
        check_positive("gradient clip value", self.clip_grad_value, allow_none=True)
        check_positive("gradient clip norm", self.clip_grad_norm, allow_none=True)
        check_count("number of starts", self.n_starts)
        check_count("log interval", self.log_every, minimum=0)
        if not isinstance(self.log_step_zero, bool):
            raise ValueError(f"log_step_zero must be True or False, got {self.log_step_zero!r}")
        check_count("progress interval", self.progress_every)
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; valid losses: {', '.join(LOSSES)}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {self.lr_schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.n_starts > 1 and not 0 < self.select_window <= self.select_at < self.steps:
            raise ValueError("with several starts, 0 < select_window <= select_at < steps must hold")
        if self.n_snapshots == 1:
            raise ValueError("number of snapshots must be 0 (none) or at least 2")


@dataclass
class Problem:
    """What to train, for S runs (seeds, or (range, seed) pairs).

    Attributes:
        keys: (S,) the runs' stream keys (arithnet.random); starts and
            restarts draw their weights from keys derived from these.
        build: ``build(N)`` makes a unit of N networks, of the right dtype and
            on the right device (its weights are drawn by the engine).
        batch: ``batch(step)`` gives inputs (S, B, I), or (B, I) shared by every
            run, and targets (S, B) for a step.
        evaluate: ``evaluate(unit)`` gives per-run metrics (S,) at log steps; the
            step with the lowest ``"valid"`` is each run's best.
        initialize: ``initialize(unit, sampler)`` draws the initial weights;
            None for ``unit.reset_parameters(sampler)``.
        callbacks: ``callbacks(unit)`` gives the training rules for the unit
            just built (engine.callbacks: restarts, snapping), called once;
            None for none.
    """

    keys: torch.Tensor
    build: Callable[[int], Unit]
    batch: Callable[[int], tuple[torch.Tensor, torch.Tensor]]
    evaluate: Callable[[Unit], dict[str, torch.Tensor]] | None = None
    initialize: Callable[[Unit, Sampler], None] | None = None
    callbacks: Callable[[Unit], Sequence[Callback]] | None = None
