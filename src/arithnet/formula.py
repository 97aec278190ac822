"""Reading a trained unit's weights as a formula, and checking it symbolically."""

from __future__ import annotations

import functools
from fractions import Fraction

import sympy

from arithnet.units.base import Unit

#: A constant snaps to a rational p/q (q ≤ MAX_DENOMINATOR) when it lies within
#: TOLERANCE of it (relative above 1): tight enough that only a weight trained
#: to its exact value snaps, loose enough for float32 training noise.
MAX_DENOMINATOR = 12
TOLERANCE = 1e-4
#: Multiplying out a product of n sums makes 2**n terms: only small expressions
#: (the 2-2-1 networks take about 20 operations) are expanded.
MAX_EXPAND_OPS = 60


def snap(expr: sympy.Expr, max_denominator: int = MAX_DENOMINATOR, tolerance: float = TOLERANCE) -> sympy.Expr:
    """Replace every float constant by the simple rational next to it.

    A constant with no simple rational near it stays a float, rounded to four
    significant digits, so the formula shows where training fell short.
    """
    replacements = {}
    for constant in expr.atoms(sympy.Float):
        value = float(constant)
        nearest = Fraction(value).limit_denominator(max_denominator)
        if abs(value - float(nearest)) <= tolerance * max(1.0, abs(value)):
            replacements[constant] = sympy.Rational(nearest.numerator, nearest.denominator)
        else:
            replacements[constant] = sympy.Float(float(f"{value:.4g}"), 4)
    return expr.xreplace(replacements)


def input_symbols(n_inputs: int) -> list[sympy.Symbol]:
    return list(sympy.symbols(f"x0:{n_inputs}", real=True))


def rounded_expression(expression: sympy.Expr) -> sympy.Expr:
    """The expression with its constants rounded, not yet simplified.

    First every weight is snapped where it stands. If one does not snap (the
    quarter-squares network can hold x·y with rows like (1, 2) and (1, −2)),
    the float expression is multiplied out and its coefficients are snapped
    instead, so that what algebra merges is judged merged.
    """
    snapped = snap(expression)
    if snapped.atoms(sympy.Float) and sympy.count_ops(expression) <= MAX_EXPAND_OPS:
        snapped = snap(sympy.expand(expression))
    return snapped


def read_formula(unit: Unit, seed_index: int = 0) -> list[sympy.Expr]:
    """The formula of each output of one seed of ``unit``, from its rounded weights."""
    inputs = input_symbols(unit.in_features)
    return [sympy.simplify(rounded_expression(e)) for e in unit.expression(inputs, seed_index)]


@functools.lru_cache(maxsize=4096)
def judge(snapped: sympy.Expr, target: sympy.Expr) -> tuple[sympy.Expr, bool]:
    """(formula, exact) for a rounded expression, simplified when it can be exact.

    An expression that still holds a float after rounding is never exact, and
    is returned unsimplified: simplifying large float expressions is slow.
    Cached: many seeds share the same rounded expression.
    """
    if snapped == target:  # already the target as sympy writes it
        return target, True
    if snapped.atoms(sympy.Float):
        return snapped, False
    simplified = sympy.simplify(snapped)
    return simplified, is_exact(simplified, target)


def is_exact(formula: sympy.Expr, target: sympy.Expr) -> bool:
    """True when the formula equals the target symbolically and holds no float."""
    if formula.atoms(sympy.Float):
        return False
    return sympy.simplify(formula - target) == 0
