"""A fitted structure as a sympy expression in the table's column names, constants snapped, then tidied."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
import torch

from arithnet.laws.constants import snap_constant

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


def constant(value: float, error: float, max_denominator: int) -> sympy.Expr:
    tolerance = max(4.0 * error, RELATIVE_FLOOR * abs(value))
    snapped = snap_constant(value, tolerance, max_denominator)
    return snapped if snapped is not None else sympy.Float(value, 15)


def ratio_expression(structure: Structure, symbols: list[sympy.Symbol], max_denominator: int, scale: float = 1.0):
    """(Σ aₖ mₖ)/(1 + Σ bₖ mₖ)/scale, each coefficient snapped where its precision allows.

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
        term = constant(value, error, max_denominator) * monomial(structure.exponents[index], symbols)
        if role > 0:
            numerator += term
        else:
            denominator += term
    return numerator / denominator


def leading_coefficient(structure: Structure) -> tuple[float, float]:
    """The numerator's largest coefficient and its standard error."""
    numerator = torch.where(structure.roles > 0, structure.coefficients.abs(), -1.0)
    index = int(numerator.argmax())
    return float(structure.coefficients[index]), float(structure.errors[index])


def law_expression(structure: Structure, symbols: list[sympy.Symbol], sign: int, max_denominator: int):
    """y as an expression: t^(1/q) with t the ratio; ``sign`` is +1 or −1 when every y has it, else 0.

    For q ≠ 1 the numerator's leading coefficient c is taken out of the
    power and snapped as |c|^(1/q): y² = 9/(16π²)·(x² + y²) reads as
    3/(4π)·√(x² + y²), where 9/16 would need a larger denominator than 3/4.
    """
    lead, error = leading_coefficient(structure)
    if structure.power == 1 or lead == 0 or not math.isfinite(lead):
        t = ratio_expression(structure, symbols, max_denominator)
        return (
            t
            if structure.power == 1
            else t ** (1 / sympy.Rational(structure.power.numerator, structure.power.denominator))
        )
    q = sympy.Rational(structure.power.numerator, structure.power.denominator)
    t = ratio_expression(structure, symbols, max_denominator, scale=abs(lead))
    outer = abs(lead) ** (1 / float(q))
    factor = constant(outer, abs(outer * error / (float(q) * lead)), max_denominator)
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
    """
    assumed = [sympy.Symbol(s.name, positive=True) if p else s for s, p in zip(symbols, positive)]
    swap = dict(zip(symbols, assumed))
    back = dict(zip(assumed, symbols))
    base = expr.subs(swap)
    if size(base) > TIDY_MAX_SIZE:  # sympy's factor and simplify take minutes on large expressions
        return expr
    rewrites = [base, sympy.factor(base), sympy.powsimp(sympy.factor(base)), sympy.together(base)]
    rewrites += [sympy.factor_terms(sympy.expand(base)), sympy.simplify(base)]
    reference = evaluate(expr, symbols, x)
    best = expr
    for candidate in rewrites:
        candidate = candidate.subs(back)
        values = evaluate(candidate, symbols, x)
        same = np.allclose(values, reference, rtol=1e-11, atol=0, equal_nan=True)
        if same and size(candidate) < size(best):
            best = candidate
    return best
