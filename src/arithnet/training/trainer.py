"""``train``: one call trains S seeds of an operation with a recipe and judges them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from arithnet import random as counter_random
from arithnet.devices import check_device
from arithnet.engine import History, ProgressCallback
from arithnet.engine.threads import single_thread
from arithnet.evaluation import Evaluation, evaluate
from arithnet.files import finite_or_none
from arithnet.operations import get_operation
from arithnet.training.config import TrainConfig
from arithnet.training.recipes import get_recipe
from arithnet.units import Unit


@dataclass
class TrainResult:
    """A finished training run. ``config`` is resolved: the recipe's steps, range and settings filled in."""

    config: TrainConfig
    unit: Unit
    initial: dict[str, torch.Tensor]
    history: History
    evaluation: Evaluation
    seconds: float
    #: Per-seed results the recipe adds, e.g. ``verified``: (S,) bool, the seeds
    #: whose weights the snap-and-verify readout replaced by an exact candidate.
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def n_solved(self) -> int:
        return int(self.evaluation.solved.sum())

    @property
    def n_diverged(self) -> int:
        return int(self.evaluation.diverged.sum())

    def weights(self, seed_index: int = 0, initial: bool = False) -> dict[str, list]:
        """One seed's weights as nested lists, at the start or at the end."""
        source = self.initial if initial else dict(self.unit.named_parameters())
        return {name: value.detach()[seed_index].tolist() for name, value in source.items()}

    def summary(self) -> dict:
        """Machine-readable summary (what ``arithnet train --json`` prints), ready for strict JSON.

        Non-finite numbers, which a diverged seed has (an error of inf, weights
        of nan), are None: JSON has no inf or nan, and ``null`` is what strict
        parsers accept.
        """
        evaluation = self.evaluation
        config = self.config
        summary = {
            "op": config.operation,
            "recipe": config.recipe,
            "n_seeds": config.n_seeds,
            "first_seed": config.first_seed,
            "steps": config.steps,
            "train_range": [config.train_range.low, config.train_range.high],
            "n_solved": self.n_solved,
            "n_diverged": self.n_diverged,
            "n_exact_formula": int(evaluation.exact.sum()),
            "n_verified_by_readout": int(self.extras["verified"].sum()) if "verified" in self.extras else None,
            "formula": str(evaluation.formulas[0]),
            "solved": evaluation.solved.tolist(),
            "errors": {
                name: {
                    "description": evaluation.set_descriptions[name],
                    "median_of_medians": float(evaluation.median_error[name].median()),
                    "median_first_seed": float(evaluation.median_error[name][0]),
                    "max_first_seed": float(evaluation.max_error[name][0]),
                }
                for name in evaluation.median_error
            },
            "initial_weights": self.weights(0, initial=True),
            "final_weights": self.weights(0),
            "seconds": self.seconds,
            "config": config.to_dict(),
        }
        return finite_or_none(summary)


def check(config: TrainConfig) -> TrainConfig:
    """``config`` resolved, after every check that can be made without training; ValueError otherwise.

    Covers what ``TrainConfig`` cannot see alone: the device on this machine
    and whether the recipe trains the operation on the range. ``train`` calls
    it first, and the command calls it before touching its output directory,
    so refused input costs no time and leaves nothing behind.
    """
    check_device(config.device)
    resolved = config.resolved()
    recipe = get_recipe(resolved.recipe)
    recipe.check_settings(resolved.settings)
    recipe.check(get_operation(resolved.operation), resolved.train_range)
    return resolved


def train(config: TrainConfig, progress: ProgressCallback | None = None) -> TrainResult:
    """Train ``config.n_seeds`` seeds as one tensor program and evaluate each.

    Raises ValueError, with a message naming the problem, before any training
    (``check``): an unknown operation, recipe or device, a bad range, or a
    combination the recipe cannot train.
    """
    config = check(config)
    operation = get_operation(config.operation)
    recipe = get_recipe(config.recipe)
    keys = counter_random.stream_keys(config.seeds)
    with single_thread():
        start = time.perf_counter()
        fit = recipe.fit(config, keys, progress)
        evaluation = evaluate(fit.unit.cpu(), operation, config.train_range)
        seconds = time.perf_counter() - start
    return TrainResult(config, fit.unit, fit.initial, fit.history, evaluation, seconds, fit.extras)
