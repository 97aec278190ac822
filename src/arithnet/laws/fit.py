"""``fit_law``: the search for a law in a table, and its result (the law, the candidates, the verdict)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arithnet import random as counter_random
from arithnet.laws.config import FitConfig, check_rows
from arithnet.laws.law import Law
from arithnet.laws.search.budget import Budget
from arithnet.laws.search.screening import screened_columns, screening_note
from arithnet.laws.search.search import Search
from arithnet.laws.verdict import Verdict
from arithnet.laws.verification.ambiguity import Competitor, UndecidedConstant, competitors, undecided_constants
from arithnet.laws.verification.front import Candidate, choose, pareto_front
from arithnet.laws.verification.powers import FreedPower, neighbours
from arithnet.tables import Table

#: progress(fraction done, what is running)
FitProgress = Callable[[float, str], None]
#: What the search can write, said when no law verifies (docs/laws.md, "Limits").
CLASS_LIMITS = (
    "no law of the searched class was verified; the class is at most 3 terms, each a numerator times at most "
    "4 sums to powers of ½ steps up to ±2, sums of monomials of degree ≤ 2 (a ratio y^q = P/Q of sums of up to "
    "6 monomials, or of polynomials within the rational library's 400 columns); a law beyond that is not found"
)


@dataclass
class LawFit:
    """What ``fit_law`` found: the chosen law, the Pareto front of candidates, and how it was verified.

    ``competitors`` are the laws of other structures that fit as well as an
    AMBIGUOUS law and lead elsewhere outside the data; ``undecided`` its
    snapped constants that other exact numbers fit as well; ``powers`` its powers of sums
    whose neighbour on the lattice fits better (verification.powers); ``stopped`` names the
    stage the time budget cut short, None when the search ran to its end.
    """

    law: Law
    candidates: list[Candidate]
    chosen: Candidate
    verification: Verdict
    noise_level: float | None
    error_in_range: float
    seconds: float
    config: FitConfig
    n_rows: int
    notes: list[str] = field(default_factory=list)
    competitors: list[Competitor] = field(default_factory=list)
    undecided: list[UndecidedConstant] = field(default_factory=list)
    powers: list[FreedPower] = field(default_factory=list)
    stopped: str | None = None

    def summary(self) -> dict[str, Any]:
        """Everything ``arithnet fit --json`` prints, JSON-able."""
        return {
            "law": str(self.law),
            "latex": self.law.latex(),
            "verification": self.verification.value,
            "stage": self.chosen.stage,
            "noise_level": self.noise_level,
            "error_in_range": self.error_in_range,
            "complexity": self.chosen.complexity,
            "template": self.chosen.template,
            "constants": [reading.row() for reading in self.chosen.constants],
            "ambiguous_with": [competitor.row() for competitor in self.competitors],
            "undecided_constants": [constant.row() for constant in self.undecided],
            "preferred_powers": [power.row() for power in self.powers],
            "stopped_by_time_budget": self.stopped,
            "candidates": [c.row() for c in self.candidates],
            "seconds": self.seconds,
            "rows": self.n_rows,
            "notes": self.notes,
        }

    def to_dict(self) -> dict[str, Any]:
        """law.json: the summary, the law's tree and columns, and the search's configuration."""
        return {**self.summary(), **self.law.to_dict(), "config": self.config.to_dict()}


def split_rows(n_rows: int, config: FitConfig) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices, a random split fixed by the seed."""
    order = np.argsort(counter_random.uniform_numpy(config.seed, counter_random.Stream.LAW_ROWS, 0, n_rows))
    n_held = max(1, round(config.holdout * n_rows))
    return order[n_held:], order[:n_held]


def zero_notes(table: Table) -> list[str]:
    """One line per input column holding zeros, when no law was verified: powers of it need log 0 there.

    The monomials read |x|^w as exp(w·log|x|); a negative or fractional power of
    a column that is 0 in some rows is ±∞ or undefined there, so a law that needs
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


def result(search: Search, table: Table) -> LawFit:
    """The fit of a finished search: the Pareto front, the chosen law and its verdict."""
    candidates = list(search.candidates.values())
    level = None
    if not search.found_exact():
        consistent = search.noise_consistent()
        for candidate in consistent:
            candidate.verified = Verdict.NOISE
        level = search.noise_level() if consistent else None
    front = pareto_front([search.tidied(c) for c in pareto_front(candidates)])
    chosen = search.tidied(choose(front, len(search.judge.evidence.y)), always=True)
    law = Law.from_sympy(chosen.expression, table.names, table.target)
    verdict, rivals, undecided, powers = chosen.verified, [], [], []
    if verdict == Verdict.NOISE:
        rivals, undecided, powers = what_the_data_leave_open(search, chosen, level)
        verdict = Verdict.AMBIGUOUS if rivals or undecided or powers else verdict
    prediction = law.predict(table.x)
    in_range = float(np.sqrt(np.nanmean((prediction - table.y) ** 2)) / np.sqrt(np.mean(table.y**2)))
    fit = LawFit(law, front, chosen, verdict, level, in_range if math.isfinite(in_range) else math.inf,
                 search.budget.elapsed(), search.config, len(table.y), competitors=rivals,
                 undecided=undecided, powers=powers)  # fmt: skip
    fit.stopped = search.budget.stopped_in
    fit.notes = notes(fit, table)
    return fit


def what_the_data_leave_open(search: Search, chosen: Candidate, level: float):
    """The checks of a noise-level law (verification): laws of other structures that fit as well and lead elsewhere
    outside, constants other exact numbers fit as well, and powers of sums a neighbour on the lattice fits better."""
    evidence = search.judge.evidence
    near = neighbours(chosen.expression, dict(zip(search.symbols, evidence.x.T)), evidence.y)  # fitted once
    rivals = search.rivals(level, chosen, near)
    rivals = competitors(search.rival(chosen), rivals, evidence.x_held, level, len(evidence.y))
    undecided = undecided_constants(chosen.constants, search.config.max_denominator)
    return rivals, undecided, near.preferred()


def notes(fit: LawFit, table: Table) -> list[str]:
    """What the user should know beside the law, one line each."""
    lines = []
    if fit.stopped is not None:
        lines.append(
            f"stopped by the time budget ({fit.config.time_budget:g} s) during the {fit.stopped} stage: "
            "later stages did not run; raise --time-budget to run them"
        )
    lines += [constant.note() for constant in fit.undecided]
    lines += [power.note() for power in fit.powers]
    if fit.competitors:
        lines.append(
            f"{len(fit.competitors)} law(s) of another structure fit the data as well and predict differently "
            "outside it (ambiguous_with): rows further out would decide"
        )
    if fit.verification == Verdict.NOT_VERIFIED:
        lines += zero_notes(table)
        lines.append(CLASS_LIMITS)
    return lines


def fit_law(table: Table, config: FitConfig | None = None, progress: FitProgress | None = None) -> LawFit:
    """Search ``table`` for the law giving its target from its inputs.

    Power laws, one-group laws, polynomials and ratios of polynomials are
    enumerated and solved in closed form; FactorNets (sums of terms that are
    numerators times powers of sums) and LawNets of growing size are trained
    with the engine; exponents are snapped, constants refitted in float64 and
    snapped, and every candidate is checked on held-out rows. The search stops at the first
    stage with a law exact on the held-out rows (or, on noisy data, when a
    bigger network no longer beats the noise level), or at the time budget.
    """
    from threadpoolctl import threadpool_limits

    config = config or FitConfig()
    check_rows(table, config)
    budget = Budget(config.time_budget)
    x, y = np.asarray(table.x, dtype=np.float64), np.asarray(table.y, dtype=np.float64)
    train, held = split_rows(len(y), config)
    with threadpool_limits(limits=1):  # one BLAS thread: the solves are small, and cores are used by processes
        kept = screened_columns(x[train], y[train], config.seed) if config.screen_columns else np.arange(x.shape[1])
        names = tuple(table.names[i] for i in kept)
        search = Search(x[:, kept], y, names, (train, held), config, budget, progress)
        search.run()
    fit = result(search, table)
    if (note := screening_note(table.names, kept)) is not None:
        fit.notes.insert(0, note)
    return fit
