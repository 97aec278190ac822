"""The square root of a plain square: y² = P/Q read out as y = ±S·√(R/Q), with P = S²·R, its sign from the data.

A sign-keeping power, sign(y)·y² = P/Q, gives y = sign(t)·√|t|: right for a
law whose y has the sign of P/Q. A law whose y changes sign with a factor
under no root, (u − v)·√(u² + w²), is y² = (u − v)²·(u² + w²) = P, a ratio
that never changes sign: √P loses the sign of u − v. The readout therefore
factors P and Q (sympy, on the snapped expression), takes out every factor
that appears squared, S, and writes y = S·√(R/Q), or −S·√(R/Q): the one whose
sign matches y's on the training rows. The judge then checks it, like every
candidate, on the held-out rows.
"""

from __future__ import annotations

import numpy as np
import sympy


def square_part(ratio: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """(S, R) with ratio = S²·R: S the factors of its numerator and denominator that appear to an even power.

    A ratio holding a float (a constant that did not snap) is not factored: (1, ratio).
    """
    if ratio.has(sympy.Float):
        return sympy.Integer(1), ratio
    root, rest = sympy.Integer(1), sympy.Integer(1)
    for part, side in zip(sympy.fraction(sympy.together(ratio)), (1, -1)):
        coefficient, factors = _factors(part)
        rest *= coefficient**side
        for base, multiplicity in factors:
            root *= base ** (side * (multiplicity // 2))
            rest *= base ** (side * (multiplicity % 2))
    return root, rest


def _factors(part: sympy.Expr) -> tuple[sympy.Expr, list]:
    """sympy's factor_list of a numerator or denominator; a number, or what sympy cannot factor, as it is.

    sympy 1.x fails on some constant factors (√π·(u² − v²) raises PolificationFailed): such a part is left whole.
    """
    if not part.free_symbols:
        return part, []
    try:
        return sympy.factor_list(part)
    except sympy.PolynomialError:
        return sympy.Integer(1), [(part, 1)]


def matching_sign(root: np.ndarray, y: np.ndarray) -> int:
    """+1 when the factor's values ``root`` have y's sign on most rows where both are non-zero, else −1."""
    with np.errstate(invalid="ignore"):
        agreement = np.nansum(np.sign(root) * np.sign(y))
    return 1 if agreement >= 0 else -1


def factored(expr: sympy.Expr) -> list[sympy.Expr]:
    """Rewrites of ``expr`` with its ratios factored: sympy's factor, then, in that, each half-integer power of a
    ratio with its squared factors S taken out, and each |S| written S, each of either sign.

    A ratio the rational library reads out is multiplied out over Laurent monomials, (x/z + w·y/(u·z) + …)/(…):
    factored it is what the law's author wrote, (x·(u + x) + w·(y + z))/((u + x)·(y + z)). Taking S out of a root,
    √(S²·R) = |S|·√R, and |S| = ±S hold only where S keeps its sign; the caller keeps a rewrite only when it gives
    the same values on the rows (``expression.tidy``).
    """
    try:
        whole = sympy.factor(expr)
    except sympy.PolynomialError:  # as in _factors
        return []
    rewrites = [whole]
    for power in whole.atoms(sympy.Pow):
        base, exponent = power.args
        if exponent.is_Rational and not exponent.is_integer and (2 * exponent).is_integer:
            root, rest = square_part(base)
            if root != 1:
                rewrites += [
                    whole.xreplace({power: sign * root ** (2 * exponent) * rest**exponent}) for sign in (1, -1)
                ]
    for absolute in whole.atoms(sympy.Abs):
        rewrites += [whole.xreplace({absolute: sign * absolute.args[0]}) for sign in (1, -1)]
    return rewrites
