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
    Fraction.limit_denominator gives the closest fraction for each base;
    among those that fit, the cheapest wins: the base's cost plus the bits of
    the numerator and twice those of the denominator (2√π before 39/11).
    """
    best: tuple[float, sympy.Expr] | None = None
    for base, base_cost in BASES:
        ratio = Fraction(value / float(base)).limit_denominator(max_denominator)
        if abs(ratio.numerator) > MAX_NUMERATOR:
            continue
        if abs(float(ratio) * float(base) - value) > tolerance:
            continue
        cost = base_cost + math.log2(abs(ratio.numerator) + 1) + 2 * math.log2(ratio.denominator)
        if best is None or cost < best[0]:
            best = (cost, sympy.Rational(ratio.numerator, ratio.denominator) * base)
    return None if best is None else best[1]
