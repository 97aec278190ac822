"""A fitted structure as a sympy expression in the table's own units and column names, constants snapped, tidied.

The structure was fitted on scaled columns (``readout.rows``): a monomial's
coefficient in the table's units is its scaled coefficient times the scales
of the powers it holds. Constants are snapped in the table's units, where a
law's 1/2 or 1/(4π) lives; a constant beyond float64's range (the units of a
column of 1e300) is kept as an mpmath number and printed as a float.
"""

from __future__ import annotations

import math
from dataclasses import replace

import mpmath
import numpy as np
import sympy

from arithnet.laws.law.evaluate import evaluate
from arithnet.laws.law.symbolic import from_sympy
from arithnet.laws.readout.algebra import monomials, ratio
from arithnet.laws.readout.constants import RELATIVE_FLOOR, ConstantReading, snapped_constant
from arithnet.laws.readout.roots import factored, matching_sign, square_part
from arithnet.laws.readout.rows import Rows
from arithnet.laws.readout.structure import Structure

#: Expressions larger than this (nodes) are left as they are: a law of that size is no law to tidy.
TIDY_MAX_SIZE = 40
#: Laws with exact constants up to this size (nodes) are factored (``roots.factored``): sympy factors the
#: polynomials of the rational library's largest laws (a few hundred nodes) in about 10 ms.
FACTOR_MAX_SIZE = 400
#: Coefficients known to within this factor of the best-determined one's relative error count as well determined.
DETERMINED_WITHIN = 2.0
#: A constant whose natural logarithm is beyond this is not a float64 (exp(709) is the largest).
LOG_FLOAT_LIMIT = 690.0


def in_units(value: float, log_factor: float):
    """value·exp(log_factor): a float where that is a float64, else an mpmath number (any exponent)."""
    if value == 0:
        return 0.0
    total = math.log(abs(value)) + log_factor
    if abs(total) < LOG_FLOAT_LIMIT and abs(log_factor) < LOG_FLOAT_LIMIT:
        return value * math.exp(log_factor)
    exact = mpmath.mpf(value) * mpmath.exp(log_factor)
    return float(exact) if abs(total) < LOG_FLOAT_LIMIT else exact


def _float_if_possible(value):
    if isinstance(value, mpmath.mpf) and 1e-300 < abs(value) < 1e300:
        return float(value)
    return value


def table_coefficients(structure: Structure, rows: Rows) -> tuple[list, np.ndarray]:
    """Each coefficient in the table's units (P's terms carry y's scale to the power q), and its relative error."""
    values = []
    for k, role in enumerate(structure.roles.tolist()):
        log_factor = -float(structure.exponents[k] @ rows.log_x)
        if role > 0:
            log_factor += float(structure.power) * rows.log_y
        values.append(in_units(float(structure.coefficients[k]), log_factor))
    magnitude = np.abs(structure.coefficients)
    relative = np.where(magnitude > 0, structure.errors / np.where(magnitude > 0, magnitude, 1.0), 0.0)
    return values, relative


def monomial(exponents: np.ndarray, symbols: list[sympy.Symbol], denominator: int) -> sympy.Expr:
    """∏ xᵢ^wᵢ, each exponent the multiple of 1/``denominator`` it was snapped to (the lcm of the grids)."""
    powers = [sympy.Rational(round(float(w) * denominator), denominator) for w in exponents]
    return sympy.Mul(*(s**p for s, p in zip(symbols, powers) if p != 0))


def read_constant(value, error: float, settings, readings: list, term: int | None = None) -> sympy.Expr:
    """The constant as the law writes it (snapped within ``sigmas`` standard errors, else a float); its reading
    (fitted value, standard error, what it became) is appended to ``readings``. A constant beyond float64's
    range (an mpmath number) is no small rational and stays as it is."""
    max_denominator, sigmas, _ = settings
    if not isinstance(value, float):
        extended = sympy.Float(value, 17)
        readings.append(ConstantReading(math.nan, 0.0, None, sigmas, extended, term))
        return extended
    snapped = snapped_constant(value, error, max_denominator, sigmas)
    readings.append(ConstantReading(value, error, snapped, sigmas, term=term))
    return snapped if snapped is not None else sympy.Float(value, 15)


def ratio_expression(structure: Structure, values, relative, symbols, settings, readings, lead=None) -> sympy.Expr:
    """(Σ aₖ mₖ)/(1 + Σ bₖ mₖ) with each coefficient snapped; the numerator's divided by term ``lead``'s first
    (whose own coefficient is then 1 by construction, and no reading of the data)."""
    denominator = settings[2]
    scale = abs(values[lead]) if lead is not None else 1.0
    numerator, below = sympy.Integer(0), sympy.Integer(1)
    for index, role in enumerate(structure.roles.tolist()):
        if role == 0:
            continue
        value = _float_if_possible(values[index] / scale) if role > 0 else values[index]
        error = float(relative[index] * abs(value)) if isinstance(value, float) else 0.0
        if index == lead:
            snapped = sympy.Integer(1 if value > 0 else -1)
        else:
            snapped = read_constant(value, error, settings, readings, index)
        term = snapped * monomial(structure.exponents[index], symbols, denominator)
        if role > 0:
            numerator += term
        else:
            below += term
    return numerator / below


def effective(structure: Structure, readings: list[ConstantReading]) -> Structure:
    """The structure as the law is written: the terms whose constant snapped to 0 left out (role 0)."""
    roles = structure.roles.copy()
    for reading in readings:
        if reading.term is not None and reading.snapped is not None and reading.snapped == 0:
            roles[reading.term] = 0.0
    return replace(structure, roles=roles)


def leading_index(structure: Structure) -> int | None:
    """The numerator's largest well-determined coefficient (in scaled units), or None when it has none.

    On noisy rows the largest coefficient can be the least certain (1.02 ± 0.03
    beside 1.00 ± 0.004): the others, divided by it, would carry its error, which
    their own snapping tolerance does not see, and 0.98 ± 0.004 would miss 1.
    """
    magnitude = np.abs(structure.coefficients)
    numerator = (structure.roles > 0) & (magnitude > 0)
    if not numerator.any():
        return None
    relative = np.where(numerator, structure.errors / np.maximum(magnitude, 1e-300), np.inf)
    floor = max(DETERMINED_WITHIN * float(relative.min()), RELATIVE_FLOOR)
    return int(np.where(numerator & (relative <= floor), magnitude, -1.0).argmax())


def fitted_sign(structure: Structure, x: np.ndarray) -> int:
    """+1 or −1 when the structure's t = P/Q has that sign on every row of ``x``, else 0.

    The fit's sign, not the data's: 1% noise pushes the smallest targets of a
    law in r^−5 below 0, and the law would then read sign(t)·|t|^(1/q) for a t
    that is positive on every row.
    """
    t = ratio(monomials(x, structure.exponents[None]), structure.coefficients[None], structure.roles[None])[0]
    return 1 if bool((t > 0).all()) else -1 if bool((t < 0).all()) else 0


def law_expression(structure: Structure, rows: Rows, symbols, sign: int, settings) -> tuple[sympy.Expr, list]:
    """y as an expression in the table's units, and its constants' readings (``front.ConstantReading``).

    y = t^(1/q) with t the ratio; ``sign`` is ±1 when every t has it, else 0.
    ``settings`` is (max_denominator, sigmas, exponent denominator). For q ≠ 1
    the numerator's leading coefficient c is taken out of the power and
    snapped as |c|^(1/q): y² = 9/(16π²)·(x² + y²) reads as 3/(4π)·√(x² + y²),
    where 9/16 would need a larger denominator than 3/4. A plain square takes
    its sign from a factor of t (``plain_root``).
    """
    values, relative = table_coefficients(structure, rows)
    q = sympy.Rational(structure.power.numerator, structure.power.denominator)
    lead, readings = leading_index(structure), []
    if structure.power == 1 or lead is None:
        t = ratio_expression(structure, values, relative, symbols, settings, readings)
        if structure.plain:
            return plain_root(sympy.Integer(1), t, rows, symbols), readings
        return (t if structure.power == 1 else t ** (1 / q)), readings
    scale = abs(values[lead])
    t = ratio_expression(structure, values, relative, symbols, settings, readings, lead=lead)
    outer = _float_if_possible(
        scale ** (1 / mpmath.mpf(float(structure.power)))
        if not isinstance(scale, float)
        else scale ** (1 / float(structure.power))
    )
    outer_error = float(relative[lead] / abs(float(structure.power)) * abs(outer)) if isinstance(outer, float) else 0.0
    factor = read_constant(outer, outer_error, settings, readings)
    if structure.plain:
        return plain_root(factor, t, rows, symbols), readings
    if sign > 0:
        return factor * t ** (1 / q), readings
    if sign < 0:
        return -factor * (-t) ** (1 / q), readings
    return factor * sympy.sign(t) * sympy.Abs(t) ** (1 / q), readings


def plain_root(factor: sympy.Expr, t: sympy.Expr, rows: Rows, symbols) -> sympy.Expr:
    """y of a plain square y² = factor²·t: ±factor·S·√R with t = S²·R (``roots.square_part``), the sign that of y
    where S is evaluated on the training rows (in the table's units)."""
    root, rest = square_part(t)
    names = tuple(symbol.name for symbol in symbols)
    sign = matching_sign(values_of(root, names, rows.x * np.exp(rows.log_x)), rows.y)
    return sign * factor * root * sympy.sqrt(rest)


def size(expr: sympy.Expr) -> int:
    """Complexity: the nodes of the expression tree (PySR's measure), a fraction other than a half counting three.

    p/q is a division of two constants in PySR's trees. Halves are as common in
    laws as integers; a fraction such as 6/11 is what noise fits, and between
    two laws at the noise level the one without it is the law.
    """
    return sum(
        1 + 2 * (isinstance(node, sympy.Rational) and node.q not in (1, 2)) for node in sympy.preorder_traversal(expr)
    )


def values_of(expr: sympy.Expr, names: tuple[str, ...], x: np.ndarray) -> np.ndarray:
    """The expression on rows x (B, I) of the columns ``names``, float64; NaN where it is not a real number."""
    try:
        tree = from_sympy(expr)
    except ValueError:
        return np.full(len(x), np.nan)
    return evaluate(tree, dict(zip(names, x.T)), len(x))


def tidy(expr: sympy.Expr, names: tuple[str, ...], positive: list[bool], x: np.ndarray) -> sympy.Expr:
    """The smallest of a few rewrites that gives the same values on ``x`` (rows in the table's units).

    Powers of products split and merge only where their bases are positive
    (sympy's rules): the columns that are positive in the data are declared so.
    ``powdenest(force=True)`` reads √(1/(c² − v²)) as 1/√(c² − v²), which sympy
    will not do for a base of unknown sign; the check on ``x`` keeps it only
    where the values agree (both forms are non-real where the base is negative).
    First a term is pulled out of each power of a sum (``pulled_out``), which is
    cheap at any size; then a law with snapped constants is factored (``roots.factored``:
    polynomials, fast at the sizes the rational library reads out); sympy's own
    rewrites follow for expressions small enough.
    """
    symbols = [sympy.Symbol(name) for name in names]
    assumed = [sympy.Symbol(name, positive=True) if p else s for name, s, p in zip(names, symbols, positive)]
    swap, back = dict(zip(symbols, assumed)), dict(zip(assumed, symbols))
    reference = values_of(expr, names, x)

    def smallest(candidates, best):
        for candidate in candidates:
            candidate = candidate.subs(back)
            same = np.allclose(values_of(candidate, names, x), reference, rtol=1e-11, atol=0, equal_nan=True)
            if same and size(candidate) < size(best):
                best = candidate
        return best

    best = smallest(pulled_out(expr.subs(swap)), expr)
    base = best.subs(swap)
    if not base.has(sympy.Float) and size(base) <= FACTOR_MAX_SIZE:
        best = smallest(factored(base), best)
        base = best.subs(swap)
    if size(base) > TIDY_MAX_SIZE:  # sympy's factor and simplify take minutes on large expressions
        return best
    rewrites = [base, sympy.factor(base), sympy.powsimp(sympy.factor(base)), sympy.together(base)]
    rewrites += [sympy.factor_terms(sympy.expand(base)), sympy.simplify(base)]
    rewrites += [sympy.powdenest(rewrite, force=True) for rewrite in rewrites[:2]]
    return smallest(rewrites, best)


def pulled_out(expr: sympy.Expr) -> list[sympy.Expr]:
    """``expr`` with one term T pulled out of a power of a sum, (T + U)^p = T^p·(1 + U/T)^p, once per term.

    The readout writes y = (K − K·ω²/ω₀²)^−2 with the common factor K inside
    the power; pulled out it is K^−2·(1 − ω²/ω₀²)^−2, which sympy's factor then
    shortens further, and which is how the law is written by hand.
    """
    rewrites = []
    for power in expr.atoms(sympy.Pow):
        base, exponent = power.args
        if isinstance(base, sympy.Add):
            for term in base.args:
                pulled = sympy.powdenest(term**exponent, force=True) * sympy.expand(base / term) ** exponent
                rewrites.append(expr.xreplace({power: pulled}))
    return rewrites


def exponent_denominator(grids: tuple[int, ...]) -> int:
    """The denominator every snapped exponent is a multiple of: the lcm of the grids and of the lattice's ½."""
    return math.lcm(2, *grids)
