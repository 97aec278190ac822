"""A fitted structure as a sympy expression in the table's column names, constants snapped, then tidied."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
import torch

from arithnet.laws.constants import snap_constant
from arithnet.units.law_net import monomials, ratio

#: Expressions larger than this (nodes) are left as they are: a law of that size is no law to tidy.
TIDY_MAX_SIZE = 40
#: A constant whose standard error is below this share of its value is snapped as if known to this share.
RELATIVE_FLOOR = 1e-10


@dataclass
class Structure:
    """One fitted law: K monomials' exponents, their roles, the coefficients and the target power.

    y^power = (Σ aₖ mₖ)/(1 + Σ bₖ mₖ); role +1 numerator, −1 denominator, 0 pruned.
    """

    exponents: torch.Tensor  # (K, I)
    roles: torch.Tensor  # (K,)
    coefficients: torch.Tensor  # (K,)
    errors: torch.Tensor  # (K,) standard errors
    power: Fraction
    label: str

    def key(self) -> tuple:
        """What makes two structures the same law: power and the set of (role, exponents) terms."""
        terms = {(int(r), tuple(e.tolist())) for r, e in zip(self.roles, self.exponents) if r != 0}
        return (self.power, frozenset(terms))


def monomial(exponents: torch.Tensor, symbols: list[sympy.Symbol], grid: int = 6) -> sympy.Expr:
    """∏ xᵢ^wᵢ with each exponent as the rational it was snapped to."""
    powers = [sympy.Rational(round(float(w) * grid), grid) for w in exponents]
    return sympy.Mul(*(s**p for s, p in zip(symbols, powers) if p != 0))


def snapped_constant(value: float, error: float, max_denominator: int, sigmas: float = 4.0) -> sympy.Expr | None:
    """The cheapest exact number within ``sigmas`` standard errors of ``value`` (at least RELATIVE_FLOOR), or None."""
    sigma = max(error, RELATIVE_FLOOR * abs(value) / sigmas)
    return snap_constant(value, sigmas * sigma, max_denominator, sigma)


def constant(value: float, error: float, max_denominator: int, sigmas: float = 4.0) -> sympy.Expr:
    """``snapped_constant``, else the float itself."""
    snapped = snapped_constant(value, error, max_denominator, sigmas)
    return snapped if snapped is not None else sympy.Float(value, 15)


def ratio_expression(structure: Structure, symbols, max_denominator: int, scale: float = 1.0, sigmas: float = 4.0):
    """(Σ aₖ mₖ)/(1 + Σ bₖ mₖ)/scale, each coefficient snapped within ``sigmas`` standard errors.

    The numerator's coefficients are divided by ``scale`` (with their errors):
    the caller takes that factor out, to snap it where it is simplest.
    """
    numerator, denominator = sympy.Integer(0), sympy.Integer(1)
    for index, role in enumerate(structure.roles.tolist()):
        if role == 0:
            continue
        value, error = float(structure.coefficients[index]), float(structure.errors[index])
        if role > 0:
            value, error = value / scale, error / abs(scale)
        term = constant(value, error, max_denominator, sigmas) * monomial(structure.exponents[index], symbols)
        if role > 0:
            numerator += term
        else:
            denominator += term
    return numerator / denominator


#: Coefficients known to within this factor of the best-determined one's relative error count as well determined.
DETERMINED_WITHIN = 2.0


def leading_coefficient(structure: Structure) -> tuple[float, float]:
    """The numerator's largest well-determined coefficient and its standard error.

    On noisy rows the largest coefficient can be the least certain (1.02 ± 0.03
    beside 1.00 ± 0.004): the others, divided by it, would carry its error, which
    their own snapping tolerance does not see, and 0.98 ± 0.004 would miss 1.
    """
    magnitude = structure.coefficients.abs()
    numerator = (structure.roles > 0) & (magnitude > 0)
    relative = torch.where(numerator, structure.errors / magnitude.clamp_min(1e-300), torch.inf)
    floor = max(DETERMINED_WITHIN * float(relative.min()), RELATIVE_FLOOR)
    index = int(torch.where(numerator & (relative <= floor), magnitude, -1.0).argmax())
    return float(structure.coefficients[index]), float(structure.errors[index])


def fitted_sign(structure: Structure, x: torch.Tensor) -> int:
    """+1 or −1 when the structure's t = P/Q has that sign on every row of ``x``, else 0.

    The fit's sign, not the data's: 1% noise pushes the smallest targets of a
    law in r^−5 below 0, and the law would then read sign(t)·|t|^(1/q) for a t
    that is positive on every row.
    """
    t = ratio(monomials(x, structure.exponents[None]), structure.coefficients[None], structure.roles[None])[0]
    return 1 if bool((t > 0).all()) else -1 if bool((t < 0).all()) else 0


def law_expression(structure: Structure, symbols, sign: int, max_denominator: int, sigmas: float = 4.0):
    """y as an expression: t^(1/q) with t the ratio; ``sign`` is +1 or −1 when every t has it, else 0.

    Constants are snapped within ``sigmas`` of their standard errors (constant).

    For q ≠ 1 the numerator's leading coefficient c is taken out of the
    power and snapped as |c|^(1/q): y² = 9/(16π²)·(x² + y²) reads as
    3/(4π)·√(x² + y²), where 9/16 would need a larger denominator than 3/4.
    """
    lead, error = leading_coefficient(structure)
    if structure.power == 1 or lead == 0 or not math.isfinite(lead):
        t = ratio_expression(structure, symbols, max_denominator, sigmas=sigmas)
        return (
            t
            if structure.power == 1
            else t ** (1 / sympy.Rational(structure.power.numerator, structure.power.denominator))
        )
    q = sympy.Rational(structure.power.numerator, structure.power.denominator)
    t = ratio_expression(structure, symbols, max_denominator, scale=abs(lead), sigmas=sigmas)
    outer = abs(lead) ** (1 / float(q))
    factor = constant(outer, abs(outer * error / (float(q) * lead)), max_denominator, sigmas)
    if sign > 0:
        return factor * t ** (1 / q)
    if sign < 0:
        return -factor * (-t) ** (1 / q)
    return factor * sympy.sign(t) * sympy.Abs(t) ** (1 / q)


def size(expr: sympy.Expr) -> int:
    """Complexity: the nodes of the expression tree (PySR's measure), a fraction other than a half counting three.

    p/q is a division of two constants in PySR's trees. Halves are as common in
    laws as integers; a fraction such as 6/11 is what noise fits, and between
    two laws at the noise level the one without it is the law.
    """
    return sum(
        1 + 2 * (isinstance(node, sympy.Rational) and node.q not in (1, 2)) for node in sympy.preorder_traversal(expr)
    )


def evaluate(expr: sympy.Expr, symbols: list[sympy.Symbol], x: np.ndarray) -> np.ndarray:
    """The expression on rows x (B, I), float64; NaN where it is not real."""
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return np.full(len(x), np.nan)
    function = sympy.lambdify(symbols, expr, modules="numpy")
    with np.errstate(all="ignore"):
        value = np.asarray(function(*x.T), dtype=np.complex128)
    value = np.broadcast_to(value, (len(x),))
    return np.where(np.abs(value.imag) <= 1e-12 * np.abs(value.real), value.real, np.nan)


def tidy(expr: sympy.Expr, symbols: list[sympy.Symbol], positive: list[bool], x: np.ndarray) -> sympy.Expr:
    """The smallest of a few rewrites that gives the same values on ``x``.

    Powers of products split and merge only where their bases are positive
    (sympy's rules): the columns that are positive in the data are declared so.
    ``powdenest(force=True)`` reads √(1/(c² − v²)) as 1/√(c² − v²), which sympy
    will not do for a base of unknown sign; the check on ``x`` keeps it only
    where the values agree (both forms are non-real where the base is negative).
    First a term is pulled out of each power of a sum (``pulled_out``), which is
    cheap at any size; sympy's own rewrites follow for expressions small enough.
    """
    assumed = [sympy.Symbol(s.name, positive=True) if p else s for s, p in zip(symbols, positive)]
    swap, back = dict(zip(symbols, assumed)), dict(zip(assumed, symbols))
    reference = evaluate(expr, symbols, x)

    def smallest(candidates, best):
        for candidate in candidates:
            candidate = candidate.subs(back)
            same = np.allclose(evaluate(candidate, symbols, x), reference, rtol=1e-11, atol=0, equal_nan=True)
            if same and size(candidate) < size(best):
                best = candidate
        return best

    best = smallest(pulled_out(expr.subs(swap)), expr)
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
