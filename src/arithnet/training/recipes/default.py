"""arithnet's own recipe: every seed solved in a fraction of a second.

Each choice, and the measurement behind it, is in docs/recipes.md
(benchmarks/recipe_ablation.py switches them off one at a time):

- loss in log space for LogExp ((Re z − log|t|)² plus a sign term): the error
  of exp(z) explodes with z, the error of z does not;
- W_in ≥ 0 (LogExp): h = W_in·x never crosses the logarithm's singularity;
- several starts per seed, the best kept early: single starts of ÷ and ×
  end in local minima (6% and 48% of seeds). Every start is drawn from the
  seed's own stream, so a seed's result depends on its number alone;
- log-uniform inputs, Adam with a cosine decay to 0, float64: the weights are
  polished to ~1e-12, far below the 1e-6 tolerance of "solved".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from arithnet import random as counter_random
from arithnet.data import BatchStream, Range
from arithnet.operations import Operation
from arithnet.training.adam import Adam
from arithnet.training.history import History
from arithnet.training.recipes.base import Fit, ProgressCallback, Recipe
from arithnet.units import UNITS, LogExp, Sampler, Unit


@dataclass(frozen=True)
class DefaultSettings:
    steps: int = 600
    batch_size: int = 32
    lr: float = 0.2
    n_starts: int = 8
    select_at: int = 50
    select_window: int = 20
    log_uniform: bool = True
    # LogExp only:
    log_space_loss: bool = True
    nonnegative_in: bool = True
    init_in: tuple[float, float] = (0.5, 1.5)


SETTINGS = {
    "add": DefaultSettings(),
    "sub": DefaultSettings(),
    "mul": DefaultSettings(steps=1000, batch_size=64, lr=0.05, n_starts=16, select_at=100, log_uniform=False),
    "div": DefaultSettings(),
}


class DefaultRecipe(Recipe):
    name = "default"
    summary = "arithnet's recipe: Adam, log-space loss, 8 starts per seed, float64"
    operations = frozenset({"add", "sub", "mul", "div"})

    def __init__(self, settings: dict[str, DefaultSettings] | None = None) -> None:
        self.settings = settings or SETTINGS

    def steps_for(self, operation: Operation) -> int:
        return self.settings[operation.name].steps

    def default_range(self, operation: Operation) -> Range:
        return Range(0.1, 10.0)

    def check(self, operation: Operation, train_range: Range) -> None:
        super().check(operation, train_range)
        if operation.divides and train_range.contains_zero:
            raise ValueError(
                f"the {self.name!r} recipe cannot train {operation.name} on {train_range}: the range holds zero, "
                "which would be a denominator; choose a range on one side of zero, e.g. 0.1,10"
            )

    def build(self, operation: Operation, n_networks: int) -> Unit:
        spec = UNITS[operation.network]
        cfg = self.settings[operation.name]
        if spec.cls is LogExp:
            return spec.build(2, 1, n_networks, nonnegative_in=cfg.nonnegative_in, init_in=cfg.init_in)
        return spec.build(2, 1, n_networks)

    def loss(self, unit: Unit, operation: Operation, x: torch.Tensor) -> torch.Tensor:
        """Per-network loss (N,) on a batch x (N, B, 2)."""
        target = operation.target(x)
        if isinstance(unit, LogExp) and self.settings[operation.name].log_space_loss:
            real, imaginary = unit.log_parts(x)
            log_error = real[..., 0] - torch.log(target.abs())
            sign_error = torch.cos(imaginary[..., 0]) - torch.sign(target)
            return (log_error.square() + sign_error.square()).mean(-1)
        # Relative mean squared error: the same scale whatever the range.
        error = (unit(x)[..., 0] - target).square().mean(-1)
        return error / target.square().mean(-1).clamp_min(1e-300)

    def fit(
        self,
        operation: Operation,
        keys: torch.Tensor,
        steps: int,
        train_range: Range,
        n_snapshots: int,
        progress: ProgressCallback | None = None,
    ) -> Fit:
        cfg = self.settings[operation.name]
        n_seeds = len(keys)
        starts = cfg.n_starts if steps > cfg.select_at else 1
        # Start r of seed s draws from its own stream, derived from the seed's.
        start_keys = counter_random.derive(keys.repeat_interleave(starts), torch.arange(starts).repeat(n_seeds))
        unit = self.build(operation, n_seeds * starts).double()
        unit.reset_parameters(Sampler(start_keys))
        initial = {name: p.detach().clone() for name, p in unit.named_parameters()}
        history = History(unit, steps, n_snapshots)
        history.record(0, unit, None)
        optimizer = Adam(unit.parameters(), lr=cfg.lr)
        log_uniform = cfg.log_uniform and not train_range.contains_zero
        batches = BatchStream(keys, train_range, (cfg.batch_size, 2), log_uniform)
        recent = torch.zeros(n_seeds * starts, dtype=torch.float64)

        for step in range(1, steps + 1):
            if starts > 1 and step == cfg.select_at + 1:
                # Keep each seed's best start; a NaN loss never wins.
                best = torch.nan_to_num(recent, nan=math.inf).view(n_seeds, starts).argmin(1)
                chosen = torch.arange(n_seeds) * starts + best
                unit = self._subset(operation, unit, chosen)
                initial = {name: value[chosen] for name, value in initial.items()}
                history.select(chosen)
                optimizer = optimizer.select(chosen, unit.parameters())
            optimizer.lr = cfg.lr * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / steps))
            # All starts of a seed see the seed's own batches.
            x = batches.batch(step)
            if len(x) != unit.n_seeds:
                x = x.repeat_interleave(starts, dim=0)
            loss = self.loss(unit, operation, x)
            optimizer.zero_grad()
            loss.sum().backward()
            optimizer.step()
            unit.project_()
            if step > cfg.select_at - cfg.select_window and step <= cfg.select_at:
                recent += loss.detach()
            history.record(step, unit, loss, final=step == steps)
            if progress is not None:
                progress(step)
        return Fit(unit, initial, history)

    def _subset(self, operation: Operation, unit: Unit, index: torch.Tensor) -> Unit:
        chosen = self.build(operation, len(index)).double()
        with torch.no_grad():
            for (name, target), source in zip(chosen.named_parameters(), unit.parameters()):
                target.copy_(source[index])
        return chosen
