"""The factored class read out: y = Σₖ Nₖ·∏ⱼ Sₖⱼ^pₖⱼ, each numerator and sum over library monomials.

A trained FactorNet run becomes a ``Composite``: each numerator and each sum
keeps the library monomials that carry its weight, each sum its leading
monomial's coefficient fixed at 1 (a sum's scale belongs to the numerator). Its
constants are then fitted to y itself (Gauss–Newton with the exact Jacobian),
terms that the Bayesian information criterion finds worth less than their
parameter are dropped one at a time, and the law is written in the table's
units: each sum as its leading monomial times (1 + Σ b·g), g the ratios of its
other monomials to the leading one, where constants such as the 2/3 of
(1 + 2z/3) live. Shape letters: B rows, L library monomials, P parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import sympy

from arithnet.laws.readout.expression import monomial, read_constant
from arithnet.laws.readout.rows import Rows

#: Gauss–Newton steps of a fit, and the relative decrease of the residual below which it stops.
FIT_STEPS = 12
FIT_TOLERANCE = 1e-12
#: A coefficient within this many standard errors of 0 is dropped before the one-by-one BIC removals.
SIGNIFICANCE = 2.0
#: Removals whose Wald statistic exceeds this many ln(n) are not refitted: the BIC would rise by about W − ln(n).
WALD_REACH = 4.0
#: A monomial is kept in a numerator or sum when its share of the largest term's RMS is at least this.
KEEP_SHARE = 1e-3


@dataclass
class Factor:
    """A sum to a power: Σ coefficientsᵢ·φ[indicesᵢ], the coefficient of ``indices[0]`` fixed at 1."""

    power: Fraction
    indices: np.ndarray
    coefficients: np.ndarray  # (len(indices),), [0] is 1
    errors: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class Term:
    """A numerator Σ coefficientsᵢ·φ[indicesᵢ] times its factors."""

    indices: np.ndarray
    coefficients: np.ndarray
    factors: list[Factor]
    errors: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class Composite:
    """A law of the factored class on the scaled rows, over the library ``library`` (L, I)."""

    terms: list[Term]
    library: np.ndarray
    label: str
    train_error: float = math.inf

    def key(self) -> tuple:
        """What makes two laws the same structure: each term's monomials and its factors' powers and monomials."""
        rows = self.library

        def monomials(indices):
            return frozenset(tuple(rows[i].tolist()) for i in indices)

        def factor_key(factor: Factor) -> tuple:
            return (factor.power, tuple(rows[factor.indices[0]].tolist()), monomials(factor.indices))

        terms = frozenset((monomials(t.indices), frozenset(factor_key(f) for f in t.factors)) for t in self.terms)
        return ("factored", terms)

    def n_parameters(self) -> int:
        return sum(len(t.indices) + sum(len(f.indices) - 1 for f in t.factors) for t in self.terms)


def library_values(z: np.ndarray, library: np.ndarray) -> np.ndarray:
    """φ (B, L): the library's monomials (non-negative integer exponents) on rows z, exact signs, 0⁰ = 1."""
    with np.errstate(over="ignore"):
        return np.prod(z[:, None, :] ** library[None], axis=-1)


def _power(values: np.ndarray, power: Fraction) -> np.ndarray:
    """values^power: signed for an integer power, NaN for a negative value under a fractional one."""
    with np.errstate(all="ignore"):
        if power.denominator == 1:
            return values ** float(power)
        return np.where(values >= 0, np.abs(values) ** float(power), np.nan)


def predict(composite: Composite, phi: np.ndarray) -> np.ndarray:
    """y (B,) of the composite on library values ``phi`` (B, L)."""
    total = np.zeros(len(phi))
    for term in composite.terms:
        value = phi[:, term.indices] @ term.coefficients
        for factor in term.factors:
            value = value * _power(phi[:, factor.indices] @ factor.coefficients, factor.power)
        total = total + value
    return total


def parameters(composite: Composite) -> np.ndarray:
    """θ: every numerator coefficient, then every sum coefficient but the fixed leading 1."""
    parts = [t.coefficients for t in composite.terms]
    parts += [f.coefficients[1:] for t in composite.terms for f in t.factors]
    return np.concatenate(parts) if parts else np.zeros(0)


def with_parameters(composite: Composite, theta: np.ndarray, errors: np.ndarray | None = None) -> Composite:
    """The composite with θ (and its standard errors) put back in place."""
    errors = np.zeros_like(theta) if errors is None else errors
    position, terms = 0, []
    numerators = []
    for term in composite.terms:
        n = len(term.indices)
        numerators.append((theta[position : position + n], errors[position : position + n]))
        position += n
    for term, (values, value_errors) in zip(composite.terms, numerators):
        factors = []
        for factor in term.factors:
            n = len(factor.indices) - 1
            coefficients = np.concatenate([[1.0], theta[position : position + n]])
            factor_errors = np.concatenate([[0.0], errors[position : position + n]])
            factors.append(replace(factor, coefficients=coefficients, errors=factor_errors))
            position += n
        terms.append(replace(term, coefficients=values, errors=value_errors, factors=factors))
    return replace(composite, terms=terms)


def jacobian(composite: Composite, phi: np.ndarray) -> np.ndarray:
    """∂y/∂θ (B, P): a numerator coefficient multiplies its monomial and the term's factors; a sum coefficient
    gives the term times p·φ/S."""
    columns_numerator, columns_sums = [], []
    for term in composite.terms:
        product = np.ones(len(phi))
        sums = []
        for factor in term.factors:
            s = phi[:, factor.indices] @ factor.coefficients
            sums.append(s)
            product = product * _power(s, factor.power)
        numerator = phi[:, term.indices] @ term.coefficients
        columns_numerator.append(phi[:, term.indices] * product[:, None])
        with np.errstate(all="ignore"):
            for factor, s in zip(term.factors, sums):
                slope = numerator * product * float(factor.power) / s
                columns_sums.append(phi[:, factor.indices[1:]] * slope[:, None])
    return np.concatenate(columns_numerator + columns_sums, 1)


def fit(composite: Composite, phi: np.ndarray, y: np.ndarray, free: np.ndarray | None = None) -> Composite:
    """The composite's constants fitted to y (Gauss–Newton, steps kept only when they lower the residual),
    with standard errors σ²(JᵀJ)⁻¹; ``free`` (P,) marks the parameters that may move."""
    theta = parameters(composite)
    free = np.ones(len(theta), dtype=bool) if free is None else free
    norm = _residual_norm(composite, phi, y)
    for _ in range(FIT_STEPS):
        matrix = jacobian(composite, phi)[:, free]
        residual = y - predict(composite, phi)
        rows = np.isfinite(matrix).all(1) & np.isfinite(residual)
        if not rows.any() or not free.any():
            break
        step = np.linalg.lstsq(matrix[rows], residual[rows], rcond=None)[0]
        trial_theta = theta.copy()
        trial_theta[free] += step
        trial = with_parameters(composite, trial_theta)
        trial_norm = _residual_norm(trial, phi, y)
        if not trial_norm < norm:
            break
        improvement = (norm - trial_norm) / max(norm, 1e-300)
        composite, theta, norm = trial, trial_theta, trial_norm
        if improvement < FIT_TOLERANCE:
            break
    return with_parameters(composite, theta, standard_errors(composite, phi, y, free))


def _residual_norm(composite: Composite, phi: np.ndarray, y: np.ndarray) -> float:
    value = float(np.sum((y - predict(composite, phi)) ** 2))
    return value if math.isfinite(value) else math.inf


def standard_errors(composite: Composite, phi: np.ndarray, y: np.ndarray, free: np.ndarray) -> np.ndarray:
    """σ²·diag((JᵀJ)⁻¹) of the free parameters (0 for the fixed ones), σ² the residual variance."""
    matrix = jacobian(composite, phi)
    residual = y - predict(composite, phi)
    rows = np.isfinite(matrix).all(1) & np.isfinite(residual)
    errors = np.zeros(matrix.shape[1])
    if not rows.any() or not free.any():
        return errors
    used = matrix[rows][:, free]
    variance = float(np.sum(residual[rows] ** 2)) / max(int(rows.sum()) - int(free.sum()), 1)
    scale = np.sqrt(np.mean(used**2, axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    gram = (used / scale).T @ (used / scale) + 1e-12 * np.eye(used.shape[1])
    errors[free] = np.sqrt(np.maximum(variance * np.diag(np.linalg.inv(gram)), 0.0)) / scale
    return errors


def bic(composite: Composite, phi: np.ndarray, y: np.ndarray) -> float:
    """n·ln(RSS/n) + k·ln(n): the fit against the constants it took."""
    n = len(y)
    rss = _residual_norm(composite, phi, y)
    return n * math.log(max(rss, 1e-300) / n) + composite.n_parameters() * math.log(n)


def removals(composite: Composite):
    """Every composite with one monomial fewer, each with the Wald statistic (coefficient / standard error)² of
    the monomial it drops: from a numerator of more than one, or a sum's non-leading ones."""
    for k, term in enumerate(composite.terms):
        for i in range(len(term.indices) if len(term.indices) > 1 else 0):
            keep = np.arange(len(term.indices)) != i
            terms = list(composite.terms)
            terms[k] = replace(term, indices=term.indices[keep], coefficients=term.coefficients[keep])
            yield replace(composite, terms=terms), wald(term.coefficients, term.errors, i)
        for j, factor in enumerate(term.factors):
            for i in range(1, len(factor.indices)):
                keep = np.arange(len(factor.indices)) != i
                factors = list(term.factors)
                factors[j] = replace(factor, indices=factor.indices[keep], coefficients=factor.coefficients[keep])
                terms = list(composite.terms)
                terms[k] = replace(term, factors=factors)
                yield replace(composite, terms=terms), wald(factor.coefficients, factor.errors, i)


def wald(coefficients: np.ndarray, errors: np.ndarray, i: int) -> float:
    """(cᵢ/σᵢ)²: about how much the fit's −2·log-likelihood rises without monomial i (∞ without an error)."""
    error = errors[i] if len(errors) > i else 0.0
    return float((coefficients[i] / error) ** 2) if error > 0 else math.inf


def significant(composite: Composite) -> Composite:
    """The composite without the monomials whose coefficient is within SIGNIFICANCE standard errors of 0
    (never a sum's leading one, nor a numerator's last)."""
    terms = []
    for term in composite.terms:
        keep = np.abs(term.coefficients) > SIGNIFICANCE * term.errors
        keep = keep if keep.any() else np.abs(term.coefficients) == np.abs(term.coefficients).max()
        factors = []
        for factor in term.factors:
            keep_sum = np.abs(factor.coefficients) > SIGNIFICANCE * factor.errors
            keep_sum[0] = True
            kept_sum = {"indices": factor.indices[keep_sum], "coefficients": factor.coefficients[keep_sum]}
            factors.append(replace(factor, **kept_sum))
        terms.append(replace(term, indices=term.indices[keep], coefficients=term.coefficients[keep], factors=factors))
    return replace(composite, terms=terms)


def simplified(composite: Composite, phi: np.ndarray, y: np.ndarray) -> Composite:
    """Drop the insignificant monomials at once (when that does not cost the fit: an ill-conditioned fit has
    large standard errors everywhere), then one at a time while the BIC falls: the smallest structure the data
    support.

    A removal lowers the BIC by about ln(n) − W, W its Wald statistic, so removals are tried from the smallest
    W up, the first that lowers the BIC is taken, and none with W above WALD_REACH·ln(n) is refitted: one fit
    per step instead of one per monomial (tests/test_factored.py compares the two on noisy laws).
    """
    full = fit(composite, phi, y)
    pruned = fit(significant(full), phi, y)
    current = pruned if bic(pruned, phi, y) <= bic(full, phi, y) + math.log(len(y)) else full
    score = bic(current, phi, y)
    while (step := smaller(current, phi, y, score)) is not None:
        current, score = step
    return current


def smaller(composite: Composite, phi: np.ndarray, y: np.ndarray, score: float) -> tuple[Composite, float] | None:
    """The first removal, by rising Wald statistic, whose refit has a BIC below ``score``; None if none has."""
    reach = WALD_REACH * math.log(len(y))
    for candidate, statistic in sorted(removals(composite), key=lambda pair: pair[1]):
        if statistic > reach:
            return None
        trial = fit(candidate, phi, y)
        trial_score = bic(trial, phi, y)
        if trial_score < score:
            return trial, trial_score
    return None


# From a trained run ------------------------------------------------------------------------------------------------


def kept(values: np.ndarray, phi: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The ``indices`` whose monomial carries at least KEEP_SHARE of the largest one's RMS contribution."""
    if len(indices) == 0:
        return indices
    contribution = np.abs(values[indices]) * np.sqrt(np.mean(phi[:, indices] ** 2, axis=0))
    return indices[contribution >= KEEP_SHARE * contribution.max()]


def from_run(run: dict, library: np.ndarray, phi: np.ndarray, label: str) -> Composite | None:
    """A run's composite: ``run`` holds its numerator coefficients (K, L) and masks, sums' weights (K, J, L),
    allowed masks and powers (K, J); each sum is divided by its leading monomial's weight."""
    terms = []
    for k in range(run["numerator"].shape[0]):
        numerator = kept(run["coefficients"][k], phi, np.flatnonzero(run["numerator"][k]))
        if len(numerator) == 0:
            continue
        factors = []
        for j in np.flatnonzero(run["powers"][k] != 0):
            weights = run["weights"][k, j] * run["allowed"][k, j]
            indices = kept(weights, phi, np.flatnonzero(run["allowed"][k, j]))
            contribution = np.abs(weights[indices]) * np.sqrt(np.mean(phi[:, indices] ** 2, axis=0))
            indices = indices[np.argsort(-contribution, kind="stable")]
            coefficients = weights[indices] / weights[indices[0]]
            power = Fraction(float(run["powers"][k, j])).limit_denominator(4)
            factors.append(Factor(power, indices, coefficients))
        terms.append(Term(numerator, run["coefficients"][k][numerator], factors))
    return Composite(terms, library, label) if terms else None


# In the table's units ---------------------------------------------------------------------------------------------


def expression(composite: Composite, rows: Rows, symbols, settings) -> tuple[sympy.Expr, list]:
    """y in the table's units and names, and the readings of its constants (``read_constant``).

    A sum S = φ_lead(z) + Σ bᵢ φᵢ(z) is φ_lead(x)·σ_lead·(1 + Σ Bᵢ φᵢ(x)/φ_lead(x)) with σ the columns' scales
    (Bᵢ = bᵢ·σᵢ/σ_lead): its leading monomial and scale join the numerator, whose constants carry y's scale.
    """
    written = _Writer(composite.library, np.exp(-(composite.library @ rows.log_x)), symbols, settings)
    total = sympy.Integer(0)
    for term in composite.terms:
        carried, product = math.exp(rows.log_y), sympy.Integer(1)
        for factor in term.factors:
            scale, factor_expression = written.factor(factor)
            carried, product = carried * scale, product * factor_expression
        total += written.numerator(term, carried) * product
    return total, written.readings


class _Writer:
    """Writes a composite's parts in the table's units, collecting the readings of the constants."""

    def __init__(self, library: np.ndarray, sigma: np.ndarray, symbols, settings) -> None:
        self.library, self.sigma, self.symbols, self.settings = library, sigma, symbols, settings
        self.readings: list = []

    def monomial(self, exponents: np.ndarray) -> sympy.Expr:
        return monomial(exponents, self.symbols, self.settings[2])

    def constant(self, scaled: float, value: float, error: float) -> sympy.Expr:
        relative = abs(float(error) / value) if value else 0.0
        return read_constant(scaled, relative * abs(scaled), self.settings, self.readings)

    def factor(self, factor: Factor) -> tuple[float, sympy.Expr]:
        """(the scale it carries to the numerator, φ_lead(x)^p·(1 + Σ B·g)^p)."""
        lead = factor.indices[0]
        inner = sympy.Integer(1)
        for index, value, error in zip(factor.indices[1:], factor.coefficients[1:], factor.errors[1:]):
            scaled = float(value * self.sigma[index] / self.sigma[lead])
            inner += self.constant(scaled, value, error) * self.monomial(self.library[index] - self.library[lead])
        power = sympy.Rational(factor.power.numerator, factor.power.denominator)
        scale = float(self.sigma[lead]) ** float(factor.power)
        return scale, self.monomial(self.library[lead] * float(factor.power)) * inner**power

    def numerator(self, term: Term, carried: float) -> sympy.Expr:
        total = sympy.Integer(0)
        for index, value, error in zip(term.indices, term.coefficients, term.errors):
            scaled = float(value * self.sigma[index] * carried)
            total += self.constant(scaled, value, error) * self.monomial(self.library[index])
        return total


def power_neighbours(composite: Composite):
    """The composite with one sum's power moved by ±½, or that sum left out (its power 0): its lattice neighbours."""
    for k, term in enumerate(composite.terms):
        for j, factor in enumerate(term.factors):
            for step in (Fraction(-1, 2), Fraction(1, 2), -factor.power):
                power = factor.power + step
                factors = [replace(factor, power=power)] if power != 0 else []
                terms = list(composite.terms)
                terms[k] = replace(term, factors=term.factors[:j] + factors + term.factors[j + 1 :])
                yield replace(composite, terms=terms, label=f"{composite.label}, a sum's power moved to {power}")
