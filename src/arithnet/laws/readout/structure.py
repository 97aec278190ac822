"""A fitted structure of the ratio class: K monomials, their roles and coefficients, and the target power."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass
class Structure:
    """One fitted law on the scaled rows: y^power = (Σ aₖ mₖ)/(1 + Σ bₖ mₖ).

    Attributes:
        exponents: (K, I) the monomials' exponents, on the lattice.
        roles: (K,) +1 numerator, −1 denominator, 0 pruned.
        coefficients: (K,) aₖ and bₖ, for the scaled columns (``readout.rows``).
        errors: (K,) their standard errors.
        power: the target power q.
        label: the stage and shape it came from.
        plain: for an even q, whether y^q is the plain power (y² = P/Q, y = ±S·√(R/Q) with the sign of a factor S,
            ``readout.roots``) rather than the sign-keeping one (sign(y)·y² = P/Q, y = sign(t)·|t|^(1/q)).
    """

    exponents: np.ndarray
    roles: np.ndarray
    coefficients: np.ndarray
    errors: np.ndarray
    power: Fraction
    label: str
    plain: bool = False

    def key(self) -> tuple:
        """What makes two structures the same law: the power and the set of (role, exponents) terms, and "plain"
        after them for a plain even power (the same P/Q read as another law)."""
        terms = {(int(r), tuple(e.tolist())) for r, e in zip(self.roles, self.exponents) if r != 0}
        return (self.power, frozenset(terms), *(("plain",) if self.plain else ()))


@dataclass
class ContinuousFit:
    """An unsnapped fit, exponents as trained or fitted, on the scaled rows: a law of no lattice class.

    Kept to compare with: when a fit outside the lattice reaches the noise too
    but predicts differently outside the data, the data cannot decide for the
    snapped law (``verification.ambiguity``).
    """

    exponents: np.ndarray
    roles: np.ndarray
    coefficients: np.ndarray
    power: float
    label: str
