"""``fit_law``: the search for a law in a table, from the simplest networks up, and its result."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
import torch

from arithnet import random as counter_random
from arithnet.engine.threads import single_thread
from arithnet.laws.config import FitConfig, check_rows
from arithnet.laws.expression import Structure, evaluate, fitted_sign, law_expression, size, tidy
from arithnet.laws.front import Candidate, choose, noise_band, pareto_front
from arithnet.laws.lattice import lattice_from, polynomial_structures, prefiltered
from arithnet.laws.law import Law
from arithnet.laws.noise import looks_like_noise
from arithnet.laws.readout import relative_rms, worst_relative
from arithnet.laws.search import geometric_scale, train_stage
from arithnet.laws.snapping import snapped_in_turn
from arithnet.laws.structures import Rows, degrees_of_freedom, shortlist
from arithnet.tables import Table

#: The structures of each shortlist (best held-out error first) also read out with their constants snapped in turn.
IN_TURN = 8

#: progress(fraction done, what is running)
FitProgress = Callable[[float, str], None]


@dataclass
class LawFit:
    """What ``fit_law`` found: the chosen law, the Pareto front of candidates, and how it was verified."""

    law: Law
    candidates: list[Candidate]
    chosen: Candidate
    verification: str  # "exact", "noise" or "none"
    noise_level: float | None
    error_in_range: float
    seconds: float
    config: FitConfig
    n_rows: int
    #: What the user should know beside the law, one line each (zeros where a power needs a logarithm).
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Everything ``arithnet fit --json`` prints, JSON-able."""
        return {
            "law": str(self.law),
            "latex": self.law.latex(),
            "verification": self.verification,
            "noise_level": self.noise_level,
            "error_in_range": self.error_in_range,
            "complexity": self.chosen.complexity,
            "template": self.chosen.template,
            "candidates": [c.row() for c in self.candidates],
            "seconds": self.seconds,
            "rows": self.n_rows,
            "notes": self.notes,
        }

    def to_dict(self) -> dict[str, Any]:
        """law.json: the law, its constants, the search's configuration and the data's columns."""
        # The law's own fields last: its "law" is the srepr load_law reads, not the summary's text.
        return {**self.summary(), **self.law.to_dict(), "config": self.config.to_dict()}


def split_rows(n_rows: int, config: FitConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Training and held-out row indices, a random split fixed by the seed."""
    keys = counter_random.stream_keys([config.seed])
    order = torch.argsort(counter_random.uniform(keys, counter_random.Stream.LAW_ROWS, 0, (n_rows,))[0])
    n_held = max(1, round(config.holdout * n_rows))
    return order[n_held:], order[:n_held]


def zero_notes(table: Table, law: Law) -> list[str]:
    """One line per input column holding zeros, when no law was verified: powers of it need log 0 there.

    The monomials read |x|^w as exp(w·log|x|); a negative or fractional power of a
    column that is 0 in some rows is ±∞ or undefined there, so a law that needs
    one cannot be verified on those rows.
    """
    notes = []
    for index, name in enumerate(table.names):
        zeros = np.flatnonzero(table.x[:, index] == 0)
        if len(zeros):
            notes.append(
                f"column '{name}' is 0 in {len(zeros)} rows (first: row {zeros[0] + 1}): a negative or fractional "
                f"power of {name} would need log 0 there; leave those rows out to search for such a law"
            )
    return notes


def power_law_exponents(rows: Rows, weighted: bool = False) -> torch.Tensor:
    """Exponents (1, 1, I) of the best power law c·∏|xᵢ|^pᵢ by least squares on log|y| (non-zero rows only).

    ``weighted``: rows weighted by |y|. Noise added to y (SRBench's, a share of
    RMS(y)) moves log|y| by noise/|y|, so on a heavy-tailed target the small
    rows' logarithms are mostly noise: with 1% noise on r^−5 they pulled the
    exponent of r to −5.15, and weighting keeps it at −4.96. Without noise the
    two fits differ only for laws that are not power laws, where each is a guess
    at the common factor.
    """
    usable = (rows.x != 0).all(-1) & (rows.y != 0)
    if int(usable.sum()) <= rows.x.shape[1] + 1:
        return torch.zeros(1, 1, rows.x.shape[1], dtype=torch.float64)
    design = torch.cat([rows.x[usable].abs().log(), torch.ones(int(usable.sum()), 1, dtype=torch.float64)], 1)
    weight = rows.y[usable].abs()[:, None] if weighted else torch.ones(int(usable.sum()), 1, dtype=torch.float64)
    target = rows.y[usable].abs().log()[:, None]
    solution = torch.linalg.lstsq(design * weight, target * weight, driver="gelsd").solution
    return solution[:-1, 0].reshape(1, 1, -1)


class Search:
    """One call of ``fit_law``: the split rows, the candidates so far, and a short method per part."""

    def __init__(self, table: Table, config: FitConfig, progress: FitProgress | None) -> None:
        check_rows(table, config)
        self.table, self.config, self.progress = table, config, progress
        self.start = time.perf_counter()
        x, y = torch.from_numpy(np.array(table.x, dtype=np.float64)), torch.from_numpy(np.array(table.y, np.float64))
        train, held = split_rows(len(y), config)
        self.rows = Rows(x[train], y[train], x[held], y[held])
        self.x_all = x
        scale = geometric_scale(x[train])
        batch = train[: config.batch_rows]
        self.scaled = (x[batch] / scale, y[batch], x[train] / scale, y[train])
        self.symbols = [sympy.Symbol(name) for name in table.names]
        self.positive = [bool((x[:, i] > 0).all()) for i in range(x.shape[1])]
        self.candidates: dict[str, Candidate] = {}
        self.best_continuous = math.inf

    @property
    def grids(self) -> tuple[int, ...]:
        return self.config.exponent_grids

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def run(self) -> LawFit:
        one = torch.ones(2, 1, dtype=torch.float64)
        self.power_law = power_law_exponents(self.rows)
        both = torch.cat([self.power_law, power_law_exponents(self.rows, weighted=True)])
        self.add_structures(*shortlist(self.rows, both, one, one[:, 0], ["y = power law"] * 2, self.grids))
        if self.config.lattice_stage and not self.found_exact():
            lattice = prefiltered(self.rows.x, self.rows.y, *lattice_from(both[:, 0], self.config))
            self.add_structures(*shortlist(self.rows, *lattice, (2,)))
            polynomials = polynomial_structures(len(self.table.names), self.config)
            if polynomials is not None and not self.found_exact():
                self.add_structures(*shortlist(self.rows, *polynomials, (2,)))
        n_stages = len(self.config.stages)
        for index, stage in enumerate(self.config.stages):
            if self.found_exact() or self.elapsed() > self.config.time_budget:
                break
            previous = self.noise_consistent()
            self.run_stage(index, stage, n_stages)
            if previous and self.noise_consistent():
                break  # a bigger network did not beat the noise level: more terms would only fit noise
        return self.result()

    def run_stage(self, index: int, stage, n_stages: int) -> None:
        def progress(step: int) -> None:
            if self.progress is not None:
                done = step / (self.config.steps + self.config.polish_steps)
                self.progress((index + done) / n_stages, f"{stage.n_terms} monomials")

        base = self.power_law[0, 0]
        variants, roles, powers, exponents = train_stage(self.scaled, base, stage, index, self.config, progress)
        labels = [v.label for v in variants for _ in range(self.config.n_kept)]
        self.add_structures(*shortlist(self.rows, exponents, roles, powers, labels, self.grids))

    def add_structures(self, structures: list[tuple[Structure, float]], continuous: float) -> None:
        self.best_continuous = min(self.best_continuous, continuous)
        for structure, sigmas in self.readings(structures):
            sign = fitted_sign(structure, self.x_all)
            expression = law_expression(structure, self.symbols, sign, self.config.max_denominator, sigmas)
            key = sympy.srepr(expression)
            if key not in self.candidates:
                self.candidates[key] = self.judge(expression, structure.label)

    def readings(self, structures: list[tuple[Structure, float]]):
        """(structure, snap sigmas) pairs to read out: every structure at every ``snap_sigmas``, and the best
        IN_TURN of them, where not exact already, with their constants snapped in turn (laws.snapping)."""
        for index, (structure, held) in enumerate(structures):
            for sigmas in self.config.snap_sigmas:
                yield structure, sigmas
            if index < IN_TURN and held > self.config.exact_tolerance:
                sigmas = self.config.snap_sigmas[0]
                turned = snapped_in_turn(self.rows, structure, self.config.max_denominator, sigmas)
                if turned is not None:
                    yield turned, sigmas

    def judge(self, expression: sympy.Expr, template: str) -> Candidate:
        """The candidate with its held-out errors; "exact" when every held-out row matches to float precision."""
        prediction = torch.from_numpy(evaluate(expression, self.symbols, self.rows.x_held.numpy()))
        fitted = torch.from_numpy(evaluate(expression, self.symbols, self.rows.x.numpy()))
        error = float(relative_rms(prediction[None], self.rows.y_held)[0])
        n_parameters = sum(1 for a in sympy.preorder_traversal(expression) if a.is_Number and a not in (1, -1))
        train_error = float(degrees_of_freedom(relative_rms(fitted[None], self.rows.y), n_parameters, len(fitted))[0])
        worst = float(worst_relative(prediction[None], self.rows.y_held)[0])
        verified = "exact" if worst < self.config.exact_tolerance else ""
        # Every row for the test of leftover structure: a thousand rows see a misfit of 1e-4 that 250 miss.
        residual = torch.cat([fitted - self.rows.y, prediction - self.rows.y_held]).numpy()
        x_all = torch.cat([self.rows.x, self.rows.x_held]).numpy()
        unstructured = looks_like_noise(x_all, residual)
        return Candidate(expression, size(expression), error, train_error, worst, verified, template, unstructured)

    def found_exact(self) -> bool:
        return any(c.verified == "exact" for c in self.candidates.values())

    def noise_level(self) -> float:
        """The noise estimate: the lowest training error of any fit, snapped or not.

        Training errors, not held-out ones: the held-out minimum over many
        candidates is biased low (the winner's curse), most on heavy-tailed targets.
        """
        return min([self.best_continuous, *(c.train_error for c in self.candidates.values())])

    def noise_consistent(self) -> list[Candidate]:
        """Candidates whose held-out error is within the noise band of the best error seen.

        Its held-out residuals must also pass the F-test for leftover structure
        (laws.noise): a search that found nothing must not call its best miss noise.
        """
        level = self.noise_level()
        if not level <= self.config.max_noise:
            return []
        limit = level * noise_band(len(self.rows.y_held))
        return [c for c in self.candidates.values() if c.error <= limit and c.unstructured]

    def result(self) -> LawFit:
        candidates = list(self.candidates.values())
        noise = None
        if not self.found_exact():
            consistent = self.noise_consistent()
            for candidate in consistent:
                candidate.verified = "noise"
            noise = self.noise_level() if consistent else None
        front = pareto_front([self.tidied(c) for c in pareto_front(candidates)])
        chosen = choose(front)
        law = Law(chosen.expression, tuple(self.table.names), self.table.target)
        everything = torch.cat([self.rows.y, self.rows.y_held])
        x_all = torch.cat([self.rows.x, self.rows.x_held]).numpy()
        prediction = torch.from_numpy(law.predict(x_all))
        in_range = float((prediction - everything).square().mean().sqrt() / everything.square().mean().sqrt())
        verification = chosen.verified or "none"
        notes = zero_notes(self.table, law) if verification == "none" else []
        fit = LawFit(law, front, chosen, verification, noise, in_range, self.elapsed(), self.config, len(everything))
        fit.notes = notes
        return fit

    def tidied(self, candidate: Candidate) -> Candidate:
        expression = tidy(candidate.expression, self.symbols, self.positive, self.rows.x_held.numpy())
        candidate.expression, candidate.complexity = expression, size(expression)
        return candidate


def fit_law(table: Table, config: FitConfig | None = None, progress: FitProgress | None = None) -> LawFit:
    """Search ``table`` for the law giving its target from its inputs.

    Networks of growing size (config.stages) are trained with the engine,
    their exponents snapped, their constants refitted in float64 and snapped,
    and every candidate checked on held-out rows. The search stops at the
    first stage with a law exact on the held-out rows (or, on noisy data, when
    a bigger network no longer beats the noise level), or at the time budget.
    """
    with single_thread():
        return Search(table, config or FitConfig(), progress).run()
