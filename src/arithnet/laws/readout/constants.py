"""Constants read as exact numbers: small rationals, times π or a square root, when the fit allows it.

The one place where a fitted constant is snapped (``snapped_constant``) or
kept as a float (``constant``), for the readout and for snapping in turn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

import sympy

#: Bases a rational multiplies, with the cost of using each, in bits (as for the rational's digits).
BASES: tuple[tuple[sympy.Expr, float], ...] = (
    (sympy.Integer(1), 0.0),
    (sympy.pi, 2.0),
    (1 / sympy.pi, 2.0),
    (sympy.sqrt(2), 2.5),
    (sympy.sqrt(3), 2.5),
    (sympy.pi**2, 3.0),
    (1 / sympy.pi**2, 3.0),
    (sympy.sqrt(sympy.pi), 3.5),
    (1 / sympy.sqrt(sympy.pi), 3.5),
)
BASE_VALUES = tuple(float(base) for base, _ in BASES)
#: Numerators beyond this are not "small" rationals.
MAX_NUMERATOR = 1000


def snap_constant(value: float, tolerance: float, max_denominator: int, sigma: float | None = None):
    """The cheapest r·base within ``tolerance`` of ``value`` (r = p/q, q ≤ max_denominator), or None.

    ``tolerance`` should be a few of the constant's standard errors: with a
    looser one, some rational times π matches anything. The cost of r·base is
    the base's cost plus the bits of the numerator and twice those of the
    denominator (2√π before 39/11). Given ``sigma``, the standard error, a
    candidate also pays for its misfit, (Δ/σ)²/2 nats in bits: the description
    length of the constant. Without that, 0.671 ± 0.010 would be the cheaper 2/π
    (3.6σ away) rather than 2/3 (0.5σ), and the law would leave the noise band.
    Fractions of larger denominator cost more, so on noisy data 0.92 ± 0.14 is 1, not 11/12.
    """
    best: tuple[float, ExactNumber] | None = None
    for candidate in exact_numbers_within(value, tolerance, max_denominator):
        cost = candidate.bits + (misfit_bits(candidate.value, value, sigma) if sigma else 0.0)
        if best is None or cost < best[0]:
            best = (cost, candidate)
    return None if best is None else best[1].number


def misfit_bits(exact_value: float, fitted: float, sigma: float) -> float:
    """What a constant pays for sitting away from its fitted value: (Δ/σ)²/2 nats, in bits."""
    return ((exact_value - fitted) / sigma) ** 2 / (2 * math.log(2))


class ExactNumber(NamedTuple):
    """r·base: the rational, the base's index in BASES, the cost in bits and the float value. The sympy number is
    built only when asked for: a search snaps tens of thousands of candidates and keeps a few."""

    ratio: Fraction
    base_index: int
    bits: float
    value: float

    @property
    def number(self) -> sympy.Expr:
        return sympy.Rational(self.ratio.numerator, self.ratio.denominator) * BASES[self.base_index][0]


def exact_numbers_within(value: float, tolerance: float, max_denominator: int, every: bool = False):
    """Each r·base within ``tolerance`` of ``value`` (r = p/q, q ≤ max_denominator) as an ExactNumber, whose cost
    is the base's cost plus the bits of the numerator and twice those of the denominator. Per denominator only the
    nearest numerator (the cheapest), or with ``every`` every numerator in reach."""
    for index, ((_, base_cost), scale) in enumerate(zip(BASES, BASE_VALUES, strict=True)):
        for ratio in fractions_within(value / scale, tolerance / scale, max_denominator, every):
            bits = base_cost + math.log2(abs(ratio.numerator) + 1) + 2 * math.log2(ratio.denominator)
            yield ExactNumber(ratio, index, bits, float(ratio) * scale)


def fractions_within(value: float, tolerance: float, max_denominator: int, every: bool = False) -> list[Fraction]:
    """Each p/q in lowest terms within ``tolerance`` of ``value``, q ≤ max_denominator, |p| ≤ MAX_NUMERATOR: the
    nearest p for each q, or with ``every`` each p in reach."""
    found: dict[Fraction, None] = {}  # ordered, without the repeats 2/4, 3/6 of 1/2
    for denominator in range(1, max_denominator + 1):
        if every:
            low = max(math.ceil((value - tolerance) * denominator), -MAX_NUMERATOR)
            numerators = range(low, min(math.floor((value + tolerance) * denominator), MAX_NUMERATOR) + 1)
        else:
            numerators = (round(value * denominator),)
        for numerator in numerators:
            if abs(numerator) <= MAX_NUMERATOR and abs(numerator / denominator - value) <= tolerance:
                found[Fraction(numerator, denominator)] = None
    return list(found)


#: Another exact number in a snapped constant's 95% interval leaves it undecided when its description length is at
#: most this many bits above the snapped one's: odds of 4 to 1 or less, which the data do not settle.
UNDECIDED_BITS = 2.0
#: A constant whose standard error is below this share of its value is snapped as if known to this share.
RELATIVE_FLOOR = 1e-10


def snapped_constant(value: float, error: float, max_denominator: int, sigmas: float = 4.0) -> sympy.Expr | None:
    """The cheapest exact number within ``sigmas`` standard errors of ``value`` (at least RELATIVE_FLOOR), or None."""
    sigma = max(error, RELATIVE_FLOOR * abs(value) / sigmas)
    return snap_constant(value, sigmas * sigma, max_denominator, sigma)


@dataclass
class ConstantReading:
    """One constant of a candidate as the readout found it: the fitted value, its standard error, what it became.

    ``snapped`` is the exact number it was snapped to (within ``sigmas`` standard
    errors), or None when it stayed a float; ``interval`` is the fitted value's
    95% interval from the least-squares covariance (value ± 1.96σ). A constant
    beyond float64's range is kept as ``extended`` (a sympy Float), unsnapped.
    ``term`` is the monomial it multiplies (None: a factor in front of a power).
    """

    fitted: float
    error: float
    snapped: sympy.Expr | None
    sigmas: float
    extended: sympy.Expr | None = None
    term: int | None = None

    @property
    def interval(self) -> tuple[float, float]:
        return (self.fitted - 1.96 * self.error, self.fitted + 1.96 * self.error)

    @property
    def determined(self) -> bool:
        """The data fix the constant: it was snapped, or its 95% interval excludes 0. A float whose interval
        holds 0 (standard errors thousands of times its size, as in a sum scaled up until a term vanishes)
        comes from a fit the data do not determine."""
        if self.snapped is not None or self.extended is not None:
            return True
        return math.isfinite(self.error) and abs(self.fitted) > 1.96 * self.error

    def undecided(self, max_denominator: int) -> list[sympy.Expr]:
        """The other exact numbers the data allow about as well: inside the 95% interval, and with a description
        length (``snap_constant``'s cost: bits plus misfit) at most UNDECIDED_BITS above the snapped one's (π²
        beside 10, 71 and 73 beside 72). Empty for a float, a decided constant, or 0: a term snapped away is the
        structure's choice, which the fit's significance and the rivals judge."""
        if self.snapped is None or self.snapped == 0 or not math.isfinite(self.error) or self.error <= 0:
            return []
        candidates = exact_numbers_within(self.fitted, 1.96 * self.error, max_denominator, every=True)
        costs = {c.number: c.bits + misfit_bits(c.value, self.fitted, self.error) for c in candidates}
        own = costs.get(self.snapped)
        if own is None:  # snapped in turn, or beyond the interval: compared with nothing
            return []
        return [n for n, cost in costs.items() if n != self.snapped and cost <= own + UNDECIDED_BITS]

    def row(self) -> dict:
        if self.extended is not None:
            return {"value": sympy.sstr(self.extended), "fitted": None, "standard_error": None, "interval_95": None}
        low, high = self.interval
        row = {"value": sympy.sstr(self.snapped) if self.snapped is not None else repr(self.fitted)}
        row |= {"fitted": self.fitted, "standard_error": self.error, "interval_95": [low, high]}
        if self.snapped is not None:
            tolerance = self.sigmas * max(self.error, RELATIVE_FLOOR * abs(self.fitted) / self.sigmas)
            row["snapped_within"] = [self.fitted - tolerance, self.fitted + tolerance]
        return row
