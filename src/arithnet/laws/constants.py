"""Constants read as exact numbers: small rationals, times π or a square root, when the fit allows it."""

from __future__ import annotations

import math
from fractions import Fraction

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
#: Numerators beyond this are not "small" rationals.
MAX_NUMERATOR = 1000


def snap_constant(value: float, tolerance: float, max_denominator: int) -> sympy.Expr | None:
    """The simplest r·base within ``tolerance`` of ``value`` (r = p/q, q ≤ max_denominator), or None.

    ``tolerance`` should be the constant's own uncertainty (its standard error
    from the fit): with a looser one, some rational times π matches anything.
    For each base the fraction with the smallest denominator within the
    tolerance is taken (not the closest one: on noisy data 0.92 ± 0.14 is 1,
    not 11/12); among the bases, the cheapest wins: the base's cost plus the
    bits of the numerator and twice those of the denominator (2√π before 39/11).
    """
    best: tuple[float, sympy.Expr] | None = None
    for base, base_cost in BASES:
        ratio = simplest_fraction(value / float(base), tolerance / float(base), max_denominator)
        if ratio is None:
            continue
        cost = base_cost + math.log2(abs(ratio.numerator) + 1) + 2 * math.log2(ratio.denominator)
        if best is None or cost < best[0]:
            best = (cost, sympy.Rational(ratio.numerator, ratio.denominator) * base)
    return None if best is None else best[1]


def simplest_fraction(value: float, tolerance: float, max_denominator: int) -> Fraction | None:
    """p/q within ``tolerance`` of ``value`` with the smallest q ≤ max_denominator, |p| ≤ MAX_NUMERATOR; or None."""
    for denominator in range(1, max_denominator + 1):
        numerator = round(value * denominator)
        if abs(numerator) <= MAX_NUMERATOR and abs(numerator / denominator - value) <= tolerance:
            return Fraction(numerator, denominator)
    return None
