"""One stage of the law search: LawNets of every shape and target power, trained as one engine program.

Shape letters: R runs (variant × start), B rows, I inputs, K monomials.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from arithnet import random as counter_random
from arithnet.engine import EngineConfig, Problem, fit
from arithnet.laws.config import RATIO_POWERS, SUM_POWERS, FitConfig, Stage, power_value
from arithnet.units import LawNet


@dataclass(frozen=True)
class Variant:
    """What one group of runs fits: ``n_numerator`` over ``n_denominator`` monomials of y's ``power``."""

    n_numerator: int
    n_denominator: int
    power: str

    @property
    def label(self) -> str:
        target = "y" if self.power == "1" else f"y^{self.power}"
        if self.n_denominator == 0:
            return f"{target} = sum of {self.n_numerator}"
        return f"{target} = ratio {self.n_numerator}/{self.n_denominator}"


def stage_variants(stage: Stage) -> list[Variant]:
    """Every (shape, target power) pair a stage trains."""
    return [Variant(p, q, power) for p, q in stage.shapes for power in (SUM_POWERS if q == 0 else RATIO_POWERS)]


def signed_power(y: torch.Tensor, power: float) -> torch.Tensor:
    """sign(y)·|y|^power: odd-like powers of negative targets keep their sign."""
    return torch.sign(y) * y.abs() ** power


def geometric_scale(values: torch.Tensor) -> torch.Tensor:
    """Each column's geometric mean of |value| over its non-zero entries (1 for an all-zero column)."""
    nonzero = values != 0
    logs = torch.where(nonzero, values.abs().clamp_min(1e-300).log(), 0.0)
    mean = logs.sum(0) / nonzero.sum(0).clamp_min(1)
    return torch.exp(mean)


def stage_targets(y: torch.Tensor, variants: list[Variant], n_starts: int) -> torch.Tensor:
    """(R, B): each run's transformed target, scaled to geometric mean 1 (the networks' coefficients stay O(1))."""
    rows = []
    for variant in variants:
        t = signed_power(y, power_value(variant.power))
        rows.append((t / geometric_scale(t[:, None])).expand(n_starts, -1))
    return torch.cat(rows)


def stage_roles(stage: Stage, variants: list[Variant], n_starts: int) -> torch.Tensor:
    """(R, K): +1 numerator, −1 denominator, 0 unused monomial, per run."""
    roles = torch.zeros(len(variants), stage.n_terms, dtype=torch.float64)
    for index, variant in enumerate(variants):
        roles[index, : variant.n_numerator] = 1.0
        roles[index, variant.n_numerator : variant.n_numerator + variant.n_denominator] = -1.0
    return roles.repeat_interleave(n_starts, 0)


def train_stage(x: torch.Tensor, y: torch.Tensor, stage: Stage, index: int, config: FitConfig, progress=None):
    """Train every run of ``stage`` on scaled inputs ``x`` (B, I) and targets ``y`` (B,).

    Returns the variants, one per group of ``config.n_starts`` runs, the
    trained exponents (R, K, I) and each run's final loss (R,).
    """
    variants = stage_variants(stage)
    targets = stage_targets(y, variants, config.n_starts)
    roles = stage_roles(stage, variants, config.n_starts)
    n_runs, n_inputs = len(targets), x.shape[1]
    base = counter_random.derive(counter_random.stream_keys([config.seed]), index)
    keys = counter_random.derive(base.expand(n_runs), torch.arange(n_runs))

    def build(n: int) -> LawNet:
        unit = LawNet(n_inputs, 1, n, n_terms=stage.n_terms).double()
        unit.role.copy_(roles)
        return unit

    inputs = x  # (B, I): every run reads the same rows (one matrix product for all monomials)
    problem = Problem(keys=keys, build=build, batch=lambda step: (inputs, targets))
    engine = EngineConfig(steps=config.steps, lr=config.lr, loss="projected", progress_every=max(1, config.steps // 50))
    trained = fit(problem, engine, progress=progress)
    with torch.no_grad():
        losses = torch.nan_to_num(trained.unit.projected(inputs, targets)[..., 0] - targets, nan=torch.inf)
    return variants, trained.unit.exponent.detach(), losses.square().mean(-1)
