"""Candidates of a search, their Pareto front (complexity against error), and the choice of the law."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import sympy

from arithnet.files import finite_or_none
from arithnet.laws.law.symbolic import text
from arithnet.laws.readout.constants import ConstantReading
from arithnet.laws.verdict import Verdict


@dataclass
class Candidate:
    """One law the search found.

    Attributes:
        expression: sympy, in the columns' names and the table's units.
        complexity: nodes of the expression tree.
        error: relative RMS error on the held-out rows.
        train_error: the same on the training rows, corrected for the constants fitted
            (the noise estimate's source).
        worst: the largest row-wise relative error on the held-out rows.
        verified: Verdict.EXACT, Verdict.NOISE (fits to the noise level) or Verdict.NOT_VERIFIED.
        template: the shape and target power it came from.
        stage: the stage of the search that produced it (power law, lattice, polynomial library, trained …).
        unstructured: the residuals pass the tests for leftover structure (verification.noise).
        structure: what makes two candidates the same structure (exponents, roles, power), not their constants.
        constants: the readings of its constants (fitted value, standard error, snapped to what).
        origin: the fitted structure it was read from, for its lattice neighbours (verification.ambiguity).
    """

    expression: sympy.Expr
    complexity: int
    error: float
    train_error: float
    worst: float
    verified: Verdict
    template: str
    stage: str = ""
    unstructured: bool = False
    structure: tuple = ()
    constants: list[ConstantReading] = field(default_factory=list)
    #: The fitted structure it was read from (readout.structure.Structure or readout.composite.Composite).
    origin: object = None

    @property
    def determined(self) -> bool:
        """Every constant is fixed by the data (readout.constants.ConstantReading.determined)."""
        return all(reading.determined for reading in self.constants)

    def row(self) -> dict:
        """The candidate as one row of the candidate table (JSON-able)."""
        return {
            "law": text(self.expression),
            "complexity": self.complexity,
            "error": finite_or_none(self.error),
            "verified": self.verified.value,
            "template": self.template,
            "stage": self.stage,
        }


def pareto_front(candidates: list[Candidate]) -> list[Candidate]:
    """Candidates no other beats on both complexity and error, simplest first (PySR's ``equations_``)."""
    front: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.complexity, c.error)):
        if not front or candidate.error < front[-1].error:
            front.append(candidate)
    return front


def noise_band(n_held: int) -> float:
    """How much a law's held-out error may exceed the best error and still be "at the noise level".

    The RMS of n residuals estimates the noise with a relative standard error
    of about 1/√(2n); three of those is the band.
    """
    return 1.0 + 3.0 / math.sqrt(2.0 * n_held)


#: The BIC gain that counts as strong evidence for one law over another: 2·ln 20, odds of 20 to 1 (Kass and
#: Raftery's scale). The choice among noise-level laws and the powers check (verification.powers) use it.
MIN_BIC_GAIN = 6.0


def n_numbers(expression: sympy.Expr) -> int:
    """The numbers a law holds other than ±1, its constants and exponents alike: what its fit cost."""
    return sum(1 for node in sympy.preorder_traversal(expression) if node.is_Number and node not in (1, -1))


def law_bic(candidate: Candidate, n_rows: int) -> float:
    """n·ln(training error²) + k·ln(n), k the law's numbers (``n_numbers``); the training error is already
    corrected for the constants fitted (verification.judge)."""
    return n_rows * math.log(max(candidate.train_error, 1e-300) ** 2) + n_numbers(candidate.expression) * math.log(
        n_rows
    )


def choose(front: list[Candidate], n_rows: int | None = None) -> Candidate:
    """The simplest exact candidate; else the simplest at the noise level; else the front's elbow.

    At the noise level, given the training rows' count ``n_rows``, a more complex
    law of the front replaces the simplest when the rows prefer it by strong
    evidence, a BIC lower by more than MIN_BIC_GAIN. The noise band is wide
    (three standard errors of one RMS), and the first terms of a law's series,
    ω/c − 11c/(2d²ω) for √(ω²/c² − π²/d²), can sit inside it while the law fits
    the same rows better by a BIC gain of a hundred.

    The elbow is PySR's "score": the largest drop of log(error) per unit of
    complexity from the previous member of the front. The most accurate
    candidate would be the most complex one, fitted to the rows' quirks.
    """
    for level in (Verdict.EXACT, Verdict.NOISE):
        verified = [c for c in front if c.verified == level]
        if verified:
            simplest = min(verified, key=lambda c: (c.complexity, c.error))
            if level != Verdict.NOISE or n_rows is None:
                return simplest
            best = min(verified, key=lambda c: (law_bic(c, n_rows), c.complexity))
            return best if law_bic(simplest, n_rows) - law_bic(best, n_rows) > MIN_BIC_GAIN else simplest
    front = sorted(front, key=lambda c: c.complexity)
    scores = [-math.inf] + [
        -math.log(max(b.error, 1e-300) / max(a.error, 1e-300)) / max(b.complexity - a.complexity, 1)
        for a, b in itertools.pairwise(front)
    ]
    return front[max(range(len(front)), key=lambda i: scores[i])] if len(front) > 1 else front[0]
