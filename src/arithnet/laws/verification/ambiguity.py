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

Outside means two kinds of rows: every input 3 times larger or 3 times
smaller (the report gives these two differences), and each input alone 3 times
larger or smaller (a law of x₁/x₂ alone, such as x₀·exp(−x₁/x₂), looks the same
when every input grows together, and only moving one input shows it).

Plausibility is the Bayesian information criterion, n·ln(RSS/n) + k·ln(n),
with every constant fitted and every non-zero exponent counted alike. A rival
as plausible as the chosen law or more is a competitor whatever its
predictions: the data prefer it, or cannot tell them apart (x^1.37 against a
ratio of monomials that matches it to 0.7% even 10 times outside). A rival
less plausible by at most ln(n), at the same fit one parameter more, is a
competitor when it leads elsewhere outside. So is a rival whose better fit
is more than its extra parameters buy by chance: a lower AIC,
n·ln(RSS/n) + 2k. BIC's ln n a parameter (6.6 on 750 rows) lets a wrong law
pass beside a fit with three more constants that fits the same rows better
by χ² 12 (p < 0.01): 9b/(9ab + π² − 27/(5√(bc))) for 1/(a + 1/(b + 1/c)) at
1% noise. A fit with many more free constants that fits only as much better
as chance allows says nothing about the law.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from arithnet.files import finite_or_none

#: Where laws are compared outside the data: every input multiplied by each factor.
FACTORS = (3.0, 1.0 / 3.0)
#: A law that fits to the noise competes when it differs from the chosen law by more than this many noise
#: levels outside (relative RMS difference): inside, two laws at the noise level differ by up to about √2.
DISAGREEMENT = 3.0
#: Two laws whose predictions differ by less than this everywhere outside are one law written two ways.
SAME_LAW = 1e-9
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
            "difference_at_3x": finite_or_none(self.differences[0]),
            "difference_at_one_third": finite_or_none(self.differences[1]),
        }


@dataclass
class UndecidedConstant:
    """A snapped constant of the chosen law, and the other exact numbers the data allow about as well."""

    value: str
    others: list[str]

    def row(self) -> dict:
        return {"value": self.value, "also_allowed": self.others}

    def note(self) -> str:
        others = ", ".join(self.others[:4]) + (" …" if len(self.others) > 4 else "")
        return (
            f"the constant {self.value} is not decided by the data: {others} fit(s) about as well (inside its 95% "
            "interval, as simple); rows with less noise would decide"
        )


def undecided_constants(readings, max_denominator: int) -> list[UndecidedConstant]:
    """The chosen law's snapped constants that the data leave undecided (readout.constants.ConstantReading)."""
    found = []
    for reading in readings:
        others = reading.undecided(max_denominator)
        if others:
            found.append(UndecidedConstant(sympy.sstr(reading.snapped), [sympy.sstr(o) for o in others]))
    return found


def difference(reference: np.ndarray, other: np.ndarray) -> float:
    """RMS of other − reference over RMS of reference, on rows where both are defined; NaN if too few are."""
    defined = np.isfinite(reference) & np.isfinite(other)
    if defined.mean() < MIN_COMPARED:
        return float("nan")
    scale = np.sqrt(np.mean(reference[defined] ** 2))
    return float(np.sqrt(np.mean((other[defined] - reference[defined]) ** 2)) / scale) if scale > 0 else float("nan")


def probes(x: np.ndarray) -> list[np.ndarray]:
    """Rows outside the data: every input times each of FACTORS, then each input alone times each of them."""
    rows = [x * factor for factor in FACTORS]
    for column in range(x.shape[1]):
        for factor in FACTORS:
            moved = x.copy()
            moved[:, column] *= factor
            rows.append(moved)
    return rows


def outside(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """The predictions on every probe of ``x``: the first two are every input ×3 and ×1/3."""
    return [predict(rows) for rows in probes(x)]


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

    def aic(self, n_rows: int) -> float:
        return n_rows * math.log(max(self.train_rms, 1e-300) ** 2) + 2 * self.n_parameters


def competitors(chosen: Rival, rivals: list[Rival], x: np.ndarray, noise: float, n_rows: int) -> list[Competitor]:
    """The rivals of another structure that the data cannot tell from ``chosen`` (module docstring)."""
    reference = outside(chosen.predict, x)
    found = []
    for rival in rivals:
        margin = rival.bic(n_rows) - chosen.bic(n_rows)
        better_than_chance = rival.aic(n_rows) < chosen.aic(n_rows)
        if rival.structure == chosen.structure or (margin > math.log(n_rows) and not better_than_chance):
            continue
        differences = [difference(r, o) for r, o in zip(reference, outside(rival.predict, x))]
        if all(not np.isfinite(d) or d < SAME_LAW for d in differences):
            continue  # the same law written otherwise (a/(a/b + 1) for a·b/(a + b))
        elsewhere = any(np.isfinite(d) and d > DISAGREEMENT * noise for d in differences)
        if margin <= 0 or elsewhere:
            found.append(Competitor(rival.law, rival.stage, rival.error, (differences[0], differences[1])))
    return sorted(found, key=lambda c: c.error)
