"""Best-step tracking: each run's weights at its logged step with the lowest validation error."""

from __future__ import annotations

import math

import torch

from arithnet.units import Unit


class BestStep:
    """Per run (N,): the lowest ``metrics["valid"]`` seen, its step, every metric then, and the weights.

    A NaN validation error never counts as an improvement.
    """

    def __init__(self, unit: Unit) -> None:
        n_runs = next(unit.parameters()).shape[0]
        device = next(unit.parameters()).device
        self.valid = torch.full((n_runs,), math.inf, dtype=torch.float64, device=device)
        self.step = torch.zeros(n_runs, dtype=torch.int64, device=device)
        self.metrics: dict[str, torch.Tensor] = {}
        self.weights = [p.detach().clone() for p in unit.parameters()]

    @torch.no_grad()
    def update(self, step: int, metrics: dict[str, torch.Tensor], unit: Unit) -> None:
        valid = torch.nan_to_num(metrics["valid"].double(), nan=math.inf)
        improved = valid < self.valid
        self.valid = torch.where(improved, valid, self.valid)
        self.step = torch.where(improved, step, self.step)
        for name, value in metrics.items():
            kept = self.metrics.get(name, torch.full_like(value, math.inf))
            self.metrics[name] = torch.where(improved, value, kept)
        for kept, current in zip(self.weights, unit.parameters()):
            kept.copy_(torch.where(improved.reshape((-1,) + (1,) * (kept.dim() - 1)), current.detach(), kept))

    def select(self, index: torch.Tensor) -> None:
        """Keep runs ``index`` only (multi-start selection)."""
        self.valid, self.step = self.valid[index], self.step[index]
        self.metrics = {name: value[index] for name, value in self.metrics.items()}
        self.weights = [w[index] for w in self.weights]

    @torch.no_grad()
    def restore(self, unit: Unit) -> None:
        """Put every run's best weights into ``unit``."""
        for parameter, kept in zip(unit.parameters(), self.weights):
            parameter.copy_(kept)
