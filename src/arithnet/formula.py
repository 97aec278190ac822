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
#: (a 2-2-1 network's tree has about 30 nodes) are expanded.
MAX_EXPAND_NODES = 40


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


def _evaluated(expr: sympy.Expr) -> sympy.Expr:
    """Rebuild an expression made under ``sympy.evaluate(False)``, now evaluating it."""
    if not expr.args:
        return expr
    return expr.func(*(_evaluated(arg) for arg in expr.args))


def _pruned(expr: sympy.Expr) -> sympy.Expr:
    """An unevaluated expression without its zero terms, unit factors and powers of 0 or of 1."""
    if not expr.args:
        return expr
    if _is_zero(expr):
        return sympy.Integer(0)
    if expr.is_Pow and _is_zero(expr.exp):
        return sympy.Integer(1)
    args = [_pruned(arg) for arg in expr.args]
    if expr.is_Pow and args[0] == 1:  # a gated-off input, 1**w, whatever w
        return sympy.Integer(1)
    if expr.is_Add:
        args = [a for a in args if not _is_zero(a)]
    elif expr.is_Mul:
        args = [a for a in args if a != 1]
    if expr.is_Add or expr.is_Mul:
        if not args:
            return sympy.Integer(0 if expr.is_Add else 1)
        if len(args) == 1:
            return args[0]
    with sympy.evaluate(False):
        return expr.func(*args)


def rounded_formula(unit: Unit, seed_index: int = 0) -> list[tuple[sympy.Expr, frozenset[sympy.Symbol]]]:
    """(expression, inputs used) of each output of one seed, with its weights rounded.

    The expression is first built and rounded without sympy's automatic
    evaluation. That is fast (evaluating functions of float weights is not),
    and it shows which inputs the rounded weights use before any algebra: an
    input in a cancelling pair x·(1/x) counts as used, a term whose weight
    rounds to zero does not. If every constant snaps, the rounded expression
    is then evaluated. If some does not and the expression is small (the
    quarter-squares network can hold x·y with rows like (1, 2) and (1, −2)),
    the float expression is multiplied out and its coefficients are snapped,
    so that what algebra merges is judged merged. Constants that do not snap
    are kept, rounded to 4 digits; a large expression with such constants is
    not evaluated (that is slow), only pruned of what rounds to nothing.
    """
    inputs = input_symbols(unit.in_features)
    with sympy.evaluate(False):
        raw = unit.expression(inputs, seed_index)
        snapped = [snap(e) for e in raw]
    readings = []
    for expression, rounded in zip(raw, snapped):
        used = frozenset(_live_symbols(rounded))
        if not rounded.atoms(sympy.Float):
            rounded = _evaluated(rounded)
        elif sum(1 for _ in sympy.preorder_traversal(expression)) <= MAX_EXPAND_NODES:
            expanded = snap(sympy.expand(_evaluated(expression)))
            rounded = expanded if not expanded.atoms(sympy.Float) else _evaluated(rounded)
        else:  # evaluating functions of floats is slow: first drop what rounds to nothing
            rounded = _pruned(rounded)
            if not rounded.atoms(sympy.Float):
                rounded = _evaluated(rounded)
        readings.append((rounded, used))
    return readings


def read_formula(unit: Unit, seed_index: int = 0) -> list[sympy.Expr]:
    """The formula of each output of one seed of ``unit``, from its rounded weights."""
    return [e if e.atoms(sympy.Float) else sympy.simplify(e) for e, _ in rounded_formula(unit, seed_index)]


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


def _is_zero(expr: sympy.Expr) -> bool:
    if expr.is_Number:
        return expr == 0
    if expr.is_Mul:
        return any(_is_zero(factor) for factor in expr.args)
    if expr.is_Add:
        return all(_is_zero(term) for term in expr.args)
    return False


def _live_symbols(expr: sympy.Expr) -> set[sympy.Symbol]:
    if expr.is_Symbol:
        return {expr}
    if expr.is_Number or _is_zero(expr):
        return set()
    if expr.is_Pow and _is_zero(expr.exp):
        return set()
    if expr.is_Add:
        return set().union(*(_live_symbols(term) for term in expr.args if not _is_zero(term)))
    return set().union(*(_live_symbols(arg) for arg in expr.args))
