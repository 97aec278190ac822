"""Can the data decide? Laws of other structures that fit to the noise but predict otherwise outside the data.

With noise, a law outside the searched class can be matched inside the data's
range, to below the noise, by a law of the class (x^1.37 by a ratio of
monomials): nothing is left for a test of the residuals to see. What tells
such laws apart is where they lead outside the range. A noise-level law is
therefore checked against every other candidate that fits to the noise, and
against the search's unsnapped fits (exponents off the lattice) that do: each
whose predictions differ from it by more than DISAGREEMENT noise levels, with
every input 3 times larger or 3 times smaller, is a competitor, and the verdict
is AMBIGUOUS. Candidates that agree outside too are the same law written
otherwise, or the law with a term too small to matter.

A rival must also be as plausible as the chosen law by the Bayesian
information criterion, n·ln(RSS/n) + k·ln(n), within ln(n): at the same fit it
may have at most one parameter more. A fit with many more free constants
always fits the noise somewhere, and says nothing about the law. Parameters
are counted alike for both: every constant fitted, and every exponent that is
not 0 (a lattice exponent is a choice the data made, a free one a number).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Where laws are compared outside the data: every input multiplied by each factor.
FACTORS = (3.0, 1.0 / 3.0)
#: A law that fits to the noise competes when it differs from the chosen law by more than this many noise
#: levels outside (relative RMS difference): inside, two laws at the noise level differ by up to about √2.
DISAGREEMENT = 3.0
#: Fewer rows than this share where both laws are defined outside, and they are not compared.
MIN_COMPARED = 0.5


@dataclass
class Competitor:
    """A law that fits the data as well as the chosen one, and how far apart the two lead outside it."""

    law: str
    stage: str
    error: float
    differences: tuple[float, float]  # relative RMS difference with every input ×3 and ×1/3

    def row(self) -> dict:
        return {
            "law": self.law,
            "stage": self.stage,
            "held_out_error": self.error,
            "difference_at_3x": _finite(self.differences[0]),
            "difference_at_one_third": _finite(self.differences[1]),
        }


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def difference(reference: np.ndarray, other: np.ndarray) -> float:
    """RMS of other − reference over RMS of reference, on rows where both are defined; NaN if too few are."""
    both = np.isfinite(reference) & np.isfinite(other)
    if both.mean() < MIN_COMPARED:
        return float("nan")
    scale = np.sqrt(np.mean(reference[both] ** 2))
    return float(np.sqrt(np.mean((other[both] - reference[both]) ** 2)) / scale) if scale > 0 else float("nan")


def outside(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """The predictions on rows ``x`` with every input multiplied by each of FACTORS."""
    return [predict(x * factor) for factor in FACTORS]


@dataclass
class Rival:
    """A law that fits to the noise: a candidate or an unsnapped fit, how to read its predictions, its cost.

    ``train_rms`` is its relative RMS error on the training rows and
    ``n_parameters`` its constants and non-zero exponents (for the BIC).
    """

    law: str
    stage: str
    error: float
    predict: Callable[[np.ndarray], np.ndarray]
    structure: tuple
    train_rms: float
    n_parameters: int

    def bic(self, n_rows: int) -> float:
        return n_rows * math.log(max(self.train_rms, 1e-300) ** 2) + self.n_parameters * math.log(n_rows)


def competitors(chosen: Rival, rivals: list[Rival], x: np.ndarray, noise: float, n_rows: int) -> list[Competitor]:
    """The rivals of another structure, as plausible by BIC, that differ from ``chosen`` outside the data."""
    reference = outside(chosen.predict, x)
    found = []
    for rival in rivals:
        if rival.structure == chosen.structure or rival.bic(n_rows) > chosen.bic(n_rows) + math.log(n_rows):
            continue
        differences = tuple(difference(r, o) for r, o in zip(reference, outside(rival.predict, x)))
        if any(np.isfinite(d) and d > DISAGREEMENT * noise for d in differences):
            found.append(Competitor(rival.law, rival.stage, rival.error, differences))
    return sorted(found, key=lambda c: c.error)
