"""The factored stages: FactorNets of every listed shape and lattice power, trained as one engine program each.

A shape is how many terms, how many sums each term multiplies, and how far
the library of each sum reaches (degree 1: a constant and the columns; degree
2: their products too); a variant is a shape with a lattice power for every
sum. The stages grow, simplest first, and a stage runs only when no law is
verified yet: one sum, two sums, two terms, quadratic sums, three sums, three
terms. Each variant gets ``n_starts`` runs; after the search steps the engine
keeps the best ``n_kept`` of each, which are polished on every training row.

This part imports torch; it hands back numpy arrays for the readout
(``readout.composite``). Shape letters: R runs, K terms, J sums per term, L library monomials, I inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from arithnet import random as counter_random
from arithnet.engine import EngineConfig, NaNReset, Problem, fit
from arithnet.laws.config import FitConfig
from arithnet.laws.model.factor_net import FactorNet
from arithnet.laws.readout.library import monomial_library
from arithnet.laws.search.factored_stages import (
    KEPT_VARIANTS,
    N_KEPT,
    N_STARTS,
    POLISH_ROWS,
    POLISH_STEPS,
    SCREEN_STEPS,
    SELECT_BEFORE,
    STEPS,
    Variant,
)


def masks(variants: list[Variant], library: np.ndarray) -> dict[str, np.ndarray]:
    """Per variant, padded to the stage's K and J: powers (V, K, J), numerator (V, K, L), allowed (V, K, J, L)."""
    n_terms = max(len(v.powers) for v in variants)
    n_factors = max(max(len(p) for p in v.powers) for v in variants)
    degree = library.sum(1)
    powers = np.zeros((len(variants), n_terms, n_factors))
    numerator = np.zeros((len(variants), n_terms, len(library)))
    allowed = np.zeros((len(variants), n_terms, n_factors, len(library)))
    for index, variant in enumerate(variants):
        for k, (term_powers, term_degrees) in enumerate(zip(variant.powers, variant.degrees)):
            numerator[index, k] = degree <= variant.numerator_degree
            for j, (power, sum_degree) in enumerate(zip(term_powers, term_degrees)):
                powers[index, k, j] = power
                allowed[index, k, j] = (degree <= sum_degree) if power != 0 else 0.0
    return {"powers": powers, "numerator": numerator, "allowed": allowed}


@dataclass(frozen=True)
class Phase:
    """One engine program of a stage: ``starts`` per run (the best kept at ``select_at``), ``steps`` on the search
    rows then ``polish`` on the polish rows, from ``initial`` weights (R, K, J, L) where given."""

    steps: int
    polish: int
    starts: int
    initial: torch.Tensor | None = None


def libraries(variants: list[Variant], n_inputs: int) -> tuple[np.ndarray, int]:
    """The smallest libraries the stage's variants need: the numerators' (L, I), and how many of its first
    monomials the sums use."""
    degree = max(max(v.numerator_degree, *(d for degrees in v.degrees for d in degrees)) for v in variants)
    sum_degree = max(d for v in variants for degrees in v.degrees for d in degrees)
    return monomial_library(n_inputs, degree), len(monomial_library(n_inputs, sum_degree))


def restart_nan(unit) -> list[NaNReset]:
    """The engine's rule for the stage: a run whose sums blew up (NaN weights) starts again near the constant law."""
    return [NaNReset("weight", 0.01)]


def stage_problem(rows, variants: list[Variant], key: torch.Tensor, phase: Phase) -> tuple[Problem, np.ndarray]:
    """The engine's problem: N_KEPT runs per variant, each with ``phase.starts`` starts."""
    x_search, y_search, x_training, y_training = (torch.from_numpy(np.ascontiguousarray(part)) for part in rows)
    x_polish, y_polish = x_training[:POLISH_ROWS], y_training[:POLISH_ROWS]
    library, n_sum_library = libraries(variants, x_polish.shape[1])
    shapes = masks(variants, library)
    shapes["allowed"] = shapes["allowed"][..., :n_sum_library]
    n_runs = len(variants) * N_KEPT
    keys = counter_random.derive(key.expand(n_runs), torch.arange(n_runs))
    search, polish = y_search[None].expand(n_runs, -1), y_polish[None].expand(n_runs, -1)
    n_terms, n_factors = shapes["powers"].shape[1:]
    per_run = {name: torch.from_numpy(value).repeat_interleave(N_KEPT, 0) for name, value in shapes.items()}

    def build(n: int) -> FactorNet:
        unit = FactorNet(
            x_polish.shape[1], 1, n, library=torch.from_numpy(library), n_terms=n_terms, n_factors=n_factors,
            n_sum_library=n_sum_library,
        ).double()  # fmt: skip
        repeat = n // n_runs
        for name in ("power", "numerator", "allowed"):
            getattr(unit, name).copy_(per_run["powers" if name == "power" else name].repeat_interleave(repeat, 0))
        return unit

    def initialize(unit: FactorNet, sampler) -> None:
        with torch.no_grad():
            unit.weight.copy_(phase.initial)

    def batch(step: int):
        return (x_search, search) if step <= phase.steps else (x_polish, polish)

    start = initialize if phase.initial is not None else None
    return Problem(keys=keys, build=build, batch=batch, initialize=start, callbacks=restart_nan), library


def run_phase(rows, variants: list[Variant], key: torch.Tensor, phase: Phase, config: FitConfig, progress):
    """Train a phase; the unit (N_KEPT runs per variant) and each run's relative squared error on the polish rows."""
    problem, library = stage_problem(rows, variants, key, phase)
    select = {"n_starts": phase.starts, "select_at": phase.steps - SELECT_BEFORE} if phase.starts > 1 else {}
    engine = EngineConfig(
        steps=phase.steps + phase.polish, lr=config.lr, loss="projected", progress_every=max(1, STEPS // 50), **select
    )
    unit = fit(problem, engine, progress=progress).unit
    x_polish, y_polish = (torch.from_numpy(np.ascontiguousarray(part[:POLISH_ROWS])) for part in rows[2:])
    with torch.no_grad():
        prediction = unit.projected(x_polish, y_polish[None].expand(unit.n_seeds, -1))[..., 0]
        loss = ((prediction - y_polish).square().mean(-1) / y_polish.square().mean()).numpy()
    return unit, library, np.nan_to_num(loss, nan=np.inf)


def screened(variants: list[Variant], losses: np.ndarray) -> list[int]:
    """The variants kept after screening: those whose better run is among the lowest errors (at least
    KEPT_VARIANTS, a third of them)."""
    best = losses.reshape(len(variants), N_KEPT).min(1)
    n_kept = min(len(variants), max(KEPT_VARIANTS, len(variants) // 3))
    return sorted(np.argsort(best, kind="stable")[:n_kept].tolist())


def train_factored(rows, variants: list[Variant], index: int, config: FitConfig, progress: Callable | None = None):
    """Train a factored stage by successive halving: every variant briefly (each run the best of its starts),
    then the best third to the end and a polish; returns the library (L, I), each run's arrays and variant."""
    from arithnet.engine.threads import single_thread

    key = counter_random.derive(counter_random.stream_keys([config.seed]), 1000 + index)
    with single_thread():
        first = Phase(SCREEN_STEPS, 0, N_STARTS // N_KEPT)
        unit, _, losses = run_phase(rows, variants, key, first, config, progress)
        chosen = screened(variants, losses)
        runs = torch.tensor([v * N_KEPT + r for v in chosen for r in range(N_KEPT)])
        kept = [variants[v] for v in chosen]
        second = Phase(STEPS - SCREEN_STEPS, POLISH_STEPS, 1, unit.weight.detach()[runs])
        unit, library, loss = run_phase(rows, kept, key, second, config, progress)
    n_library = library.shape[0]
    runs = {
        "weights": (unit.weight * unit.allowed).detach().numpy(),
        "coefficients": unit.coefficient.numpy().reshape(unit.n_seeds, -1, n_library),
        "powers": unit.power.numpy(),
        "numerator": unit.numerator.numpy(),
        "allowed": unit.allowed.numpy(),
        "loss": loss,
    }
    return library, runs, [v.label for v in kept for _ in range(N_KEPT)]
