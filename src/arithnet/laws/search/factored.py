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

import numpy as np
import torch

from arithnet import random as counter_random
from arithnet.engine import EngineConfig, Problem, fit
from arithnet.laws.config import FitConfig
from arithnet.laws.model.factor_net import FactorNet
from arithnet.laws.readout.library import monomial_library
from arithnet.laws.search.factored_stages import N_KEPT, N_STARTS, POLISH_ROWS, POLISH_STEPS, STEPS, Variant


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


def stage_problem(rows, variants: list[Variant], index: int, config: FitConfig) -> tuple[Problem, np.ndarray]:
    """The engine's problem: ``n_kept`` runs per variant, each with ``n_starts / n_kept`` starts."""
    x_search, y_search, x_all, y_all = (torch.from_numpy(np.ascontiguousarray(part)) for part in rows)
    x_all, y_all = x_all[:POLISH_ROWS], y_all[:POLISH_ROWS]
    # The smallest libraries the stage's variants need: the numerators', and the sums' (its first monomials).
    degree = max(max(v.numerator_degree, *(d for degrees in v.degrees for d in degrees)) for v in variants)
    library = monomial_library(x_all.shape[1], degree)
    n_sum_library = len(monomial_library(x_all.shape[1], max(d for v in variants for ds in v.degrees for d in ds)))
    shapes = masks(variants, library)
    shapes["allowed"] = shapes["allowed"][..., :n_sum_library]
    n_runs = len(variants) * N_KEPT
    stage_key = counter_random.derive(counter_random.stream_keys([config.seed]), 1000 + index)
    keys = counter_random.derive(stage_key.expand(n_runs), torch.arange(n_runs))
    search, polish = y_search[None].expand(n_runs, -1), y_all[None].expand(n_runs, -1)
    n_terms, n_factors = shapes["powers"].shape[1:]
    per_run = {name: torch.from_numpy(value).repeat_interleave(N_KEPT, 0) for name, value in shapes.items()}

    def build(n: int) -> FactorNet:
        unit = FactorNet(
            x_all.shape[1], 1, n, library=torch.from_numpy(library), n_terms=n_terms, n_factors=n_factors,
            n_sum_library=n_sum_library,
        ).double()  # fmt: skip
        repeat = n // n_runs
        for name in ("power", "numerator", "allowed"):
            getattr(unit, name).copy_(per_run["powers" if name == "power" else name].repeat_interleave(repeat, 0))
        return unit

    def batch(step: int):
        return (x_search, search) if step <= STEPS else (x_all, polish)

    return Problem(keys=keys, build=build, batch=batch), library


def train_factored(rows, variants: list[Variant], index: int, config: FitConfig, progress: Callable | None = None):
    """Train every run of a factored stage; returns the library (L, I), each run's arrays and its variant."""
    from arithnet.engine.threads import single_thread

    problem, library = stage_problem(rows, variants, index, config)
    engine = EngineConfig(
        steps=STEPS + POLISH_STEPS,
        lr=config.lr,
        loss="projected",
        n_starts=N_STARTS // N_KEPT,
        select_at=STEPS,
        progress_every=max(1, STEPS // 50),
    )
    with single_thread():
        unit = fit(problem, engine, progress=progress).unit
        x_all, y_all = (torch.from_numpy(np.ascontiguousarray(part)) for part in rows[2:])
        with torch.no_grad():
            prediction = unit.projected(x_all, y_all[None].expand(unit.n_seeds, -1))[..., 0]
            loss = ((prediction - y_all).square().mean(-1) / y_all.square().mean()).numpy()
    n_library = library.shape[0]
    coefficients = unit.coefficient.numpy().reshape(unit.n_seeds, -1, n_library)
    runs = {
        "weights": (unit.weight * unit.allowed).detach().numpy(),
        "coefficients": coefficients,
        "powers": unit.power.numpy(),
        "numerator": unit.numerator.numpy(),
        "allowed": unit.allowed.numpy(),
        "loss": np.nan_to_num(loss, nan=np.inf),
    }
    labels = [v.label for v in variants for _ in range(N_KEPT)]
    return library, runs, labels
