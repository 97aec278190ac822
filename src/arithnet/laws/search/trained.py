"""A trained stage of the law search: LawNets of every shape and target power, trained as one engine program.

The one part of the search that imports torch. It trains on the scaled rows
(``readout.rows``) and hands back the runs' exponents as numpy arrays for the
readout. Shape letters: R runs (variant × start), B rows, I inputs, K monomials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from arithnet import random as counter_random
from arithnet.engine import EngineConfig, NaNReset, Problem, fit
from arithnet.laws.config import LATTICE_POWERS, FitConfig, Stage, power_value
from arithnet.laws.model import LawNet
from arithnet.laws.search.lattice import RATIO_POWERS


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


def stage_variants(stage: Stage, config: FitConfig) -> list[Variant]:
    """Every (shape, target power) pair a stage trains."""
    powers = {True: config.sum_powers, False: config.ratio_powers}
    return [Variant(p, q, power) for p, q in stage.shapes for power in powers[q == 0]]


def stage_powers(variants: list[Variant], n_runs: int) -> torch.Tensor:
    """(R,): each run's target power q."""
    return torch.tensor([power_value(v.power) for v in variants], dtype=torch.float64).repeat_interleave(n_runs)


def stage_roles(stage: Stage, variants: list[Variant], n_runs: int) -> torch.Tensor:
    """(R, K): +1 numerator, −1 denominator, 0 unused monomial, per run."""
    roles = torch.zeros(len(variants), stage.n_terms, dtype=torch.float64)
    for index, variant in enumerate(variants):
        roles[index, : variant.n_numerator] = 1.0
        roles[index, variant.n_numerator : variant.n_numerator + variant.n_denominator] = -1.0
    return roles.repeat_interleave(n_runs, 0)


#: The moves a shared-factor start makes from the common factor, per monomial: none, one variable, or a ratio.
MOVE_KINDS = (0.2, 0.4, 0.4)
#: The same single powers (LATTICE_POWERS) and ratio powers the lattice stage tries, a ratio move taking either sign.
RATIO_MOVES = tuple(sorted({-a for a in RATIO_POWERS} | set(RATIO_POWERS)))


def ratio_moves(sampler, shape: tuple[int, int], n_inputs: int) -> torch.Tensor:
    """(N, K, I) exponent moves: per monomial nothing, ±a on one input, or +a on one input and −a on another.

    A term of a sum has the units of the others: it is the common factor times
    a dimensionless group, most often one variable (1 + χ) or a ratio of two
    (1 − v²/c², ω₀² − ω² = ω₀²(1 − (ω/ω₀)²)).
    """
    draws = [torch.empty(shape, dtype=torch.float64) for _ in range(4)]
    for draw in draws:
        sampler.uniform_(draw, 0.0, 1.0)
    kind, first, second, size = draws
    i = (first * n_inputs).long()
    j = (i + 1 + (second * max(n_inputs - 1, 1)).long()) % n_inputs
    single = torch.tensor(LATTICE_POWERS, dtype=torch.float64)[(size * len(LATTICE_POWERS)).long()]
    paired = torch.tensor(RATIO_MOVES, dtype=torch.float64)[(size * len(RATIO_MOVES)).long()]
    moves = torch.zeros(*shape, n_inputs, dtype=torch.float64)
    is_single, is_ratio = (kind >= MOVE_KINDS[0]) & (kind < 1 - MOVE_KINDS[2]), kind >= 1 - MOVE_KINDS[2]
    moves.scatter_add_(
        -1, i[..., None], torch.where(is_single | is_ratio, torch.where(is_single, single, paired), 0.0)[..., None]
    )
    if n_inputs > 1:
        moves.scatter_add_(-1, j[..., None], torch.where(is_ratio, -paired, 0.0)[..., None])
    return moves


def shared_factor_init(power_law: torch.Tensor):
    """An initializer: lattice starts, and every other start at the power law's common factor plus moves.

    The terms of a physical law share most of their factors (they have the
    same units): m·(ω₀² − ω²) is two monomials around m·ω₀². Least squares on
    log|y| finds that common factor, roughly; for y^q it is q times that.
    ``power_law`` (I,) are its exponents.
    """

    def initialize(unit: LawNet, sampler) -> None:
        unit.reset_parameters(sampler)
        n_runs, n_terms, n_inputs = unit.exponent.shape
        moves = ratio_moves(sampler, (n_runs, n_terms), n_inputs)
        shifted = (torch.arange(n_runs) % 2 == 0)[:, None, None]
        centre = torch.round(2 * unit.power[:, None] * power_law[None]) / 2  # (N, I), on the half-integer lattice
        jitter = unit.exponent - torch.round(unit.exponent * 2) / 2  # the lattice start's own jitter
        with torch.no_grad():
            unit.exponent.copy_(torch.where(shifted, centre[:, None, :] + moves + jitter, unit.exponent))

    return initialize


def restart_nan(unit) -> list[NaNReset]:
    """The engine's rule for the stage: a run whose ratio blew up (NaN exponents) starts again at the constant law."""
    return [NaNReset("exponent", 0.0)]


def stage_problem(rows, power_law, stage: Stage, index: int, config: FitConfig) -> tuple[Problem, list[Variant]]:
    """The engine's problem: ``n_kept`` runs per variant, each with ``n_starts / n_kept`` starts.

    ``rows`` are (search x, search y, every training x, every training y),
    scaled to order 1 (``readout.rows``): the search steps see the first pair,
    the polish the second. ``power_law`` (I,) are the exponents of the best
    power law, for the starts (shared_factor_init).
    """
    variants = stage_variants(stage, config)
    n_runs = len(variants) * config.n_kept
    roles, powers = stage_roles(stage, variants, config.n_kept), stage_powers(variants, config.n_kept)
    stage_key = counter_random.derive(counter_random.stream_keys([config.seed]), index)
    keys = counter_random.derive(stage_key.expand(n_runs), torch.arange(n_runs))
    x_search, y_search, x_all, y_all = (torch.from_numpy(np.ascontiguousarray(part)) for part in rows)
    # One row expanded to every run, not copies: the unit transforms y once per power.
    search, polish = y_search[None].expand(n_runs, -1), y_all[None].expand(n_runs, -1)

    pull = (config.steps, config.steps + config.polish_steps, 1e-9, 1e-1) if config.lattice_pull else None
    # Every other kept run is pulled to the lattice in the polish; the others are left free (1/3 powers).
    pulled = (torch.arange(n_runs) % 2 == 0).to(torch.float64)

    def build(n: int) -> LawNet:
        unit = LawNet(x_all.shape[1], 1, n, n_terms=stage.n_terms, lattice_pull=pull).double()
        repeat = n // n_runs  # n_starts / n_kept before the selection, 1 after
        for name, value in (("role", roles), ("power", powers), ("pulled", pulled)):
            getattr(unit, name).copy_(value.repeat_interleave(repeat, 0))
        return unit

    def batch(step: int):
        return (x_search, search) if step <= config.steps else (x_all, polish)

    power_law = torch.from_numpy(np.asarray(power_law, dtype=np.float64))
    initialize = shared_factor_init(power_law) if config.shared_starts else None
    return Problem(keys=keys, build=build, batch=batch, initialize=initialize, callbacks=restart_nan), variants


def train_stage(rows, power_law, stage: Stage, index: int, config: FitConfig, progress: Callable | None = None):
    """Train every run of ``stage``: a search on a subset of rows, the best starts kept, a polish on all.

    Returns the variants, one per group of ``config.n_kept`` runs, and as
    numpy arrays each run's roles (R, K), target power (R,) and trained
    exponents (R, K, I). ``progress(step)`` may raise to stop the training.
    """
    from arithnet.engine.threads import single_thread

    problem, variants = stage_problem(rows, power_law, stage, index, config)
    engine = EngineConfig(
        steps=config.steps + config.polish_steps,
        lr=config.lr,
        loss="projected",
        n_starts=config.n_starts // config.n_kept,
        select_at=config.steps,
        progress_every=max(1, config.steps // 50),
    )
    with single_thread():
        unit = fit(problem, engine, progress=progress).unit
    return variants, unit.role.numpy().copy(), unit.power.numpy().copy(), unit.exponent.detach().numpy().copy()
