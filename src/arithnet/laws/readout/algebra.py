"""The arithmetic of the searched structures, for many candidates at once, in float64 numpy.

A structure is K monomials mₖ = ∏ᵢ|xᵢ|^Eₖᵢ·cos(π Σᵢ Eₖᵢ[xᵢ < 0]), each with a
role (+1 numerator, −1 denominator, 0 unused), and a target power q:
y^q = P/Q = (Σ aₖ mₖ)/(1 + Σ bₖ mₖ). The sums are solved in closed form for
given exponents; ``refine`` then fits y itself. The search runs on columns
divided by their scale (``readout.rows``), so every value here is of order 1
whatever the table's units.

A column's exact zeros are never floored: 0^w is 0 for w > 0, 1 for w = 0
and ∞ for w < 0, and a row where a candidate is infinite takes no part in its
fits. Shape letters: C candidates, B rows, I inputs, K monomials, P unknowns.
"""

from __future__ import annotations

import numpy as np

#: Ridge of the normal equations in ``quick_errors``, on unit-RMS columns: solvable when monomials coincide.
RIDGE = 1e-12
#: Gauss–Newton steps of ``refine``: from the linear solve's start a ratio converges in two or three.
REFINE_STEPS = 6


def monomials(x: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """(C, B, K): each candidate's monomials on rows ``x`` (B, I), exponents (C, K, I)."""
    n_candidates, n_terms, n_inputs = exponents.shape
    flat = exponents.reshape(-1, n_inputs).T  # (I, C·K)
    zero = x == 0
    with np.errstate(divide="ignore"):
        log_abs = np.where(zero, 0.0, np.log(np.abs(x)))
    with np.errstate(over="ignore"):
        values = np.exp(log_abs @ flat)
    if zero.any():
        above, below = zero @ (flat > 0), zero @ (flat < 0)
        values = np.where(below > 0, np.inf, np.where(above > 0, 0.0, values))
    if (x < 0).any():
        values = values * np.cos(np.pi * ((x < 0) @ flat))
    return values.reshape(len(x), n_candidates, n_terms).transpose(1, 0, 2)


def signed_power(values: np.ndarray, power) -> np.ndarray:
    """sign(v)·|v|^power: a power that keeps the sign, so y^(−1) of a negative y stays negative."""
    with np.errstate(all="ignore"):
        return np.sign(values) * np.abs(values) ** power


def transformed_target(y: np.ndarray, powers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """t = y^q (C, B) per candidate power q (C,), and row weights |y|^(1−q) that make a fit of t one of y.

    A zero y under a negative power (t = ∞) gets t = 0 and weight 0: it is left out.
    """
    q = powers[:, None]
    floor = 1e-6 * np.sqrt(np.mean(y**2))
    left_out = (y == 0)[None] & (q < 0)
    t = np.where(left_out, 0.0, signed_power(np.where(left_out, 1.0, y[None]), q))
    with np.errstate(all="ignore"):
        weight = np.where(left_out, 0.0, np.maximum(np.abs(y), floor)[None] ** (1.0 - q))
    return t, weight


def ratio_design(m: np.ndarray, roles: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The linear system of t·Q = P, Q = 1 + Σ bₖ mₖ: column k is mₖ (numerator), −t·mₖ (denominator) or 0."""
    numerator, denominator = (roles > 0).astype(m.dtype), (roles < 0).astype(m.dtype)
    with np.errstate(invalid="ignore"):
        return m * (numerator[:, None, :] - target[..., None] * denominator[:, None, :])


def ratio(m: np.ndarray, coefficients: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """P/Q (C, B) for monomials (C, B, K), coefficients and roles (C, K)."""
    with np.errstate(all="ignore"):
        numerator = np.einsum("cbk,ck->cb", m, coefficients * (roles > 0))
        denominator = 1.0 + np.einsum("cbk,ck->cb", m, coefficients * (roles < 0))
        return numerator / denominator


def law_values(m: np.ndarray, coefficients: np.ndarray, roles: np.ndarray, powers: np.ndarray) -> np.ndarray:
    """y = sign(t)·|t|^(1/q) (C, B), t = P/Q."""
    return signed_power(ratio(m, coefficients, roles), 1.0 / powers[:, None])


def least_squares(design: np.ndarray, target: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate: the solution of design·c ≈ target (C, P) and its standard errors (C, P).

    Rows are weighted by ``weight`` (C, B) and rows that are not finite left
    out; columns are scaled to unit RMS and solved by SVD (the minimum-norm
    solution where columns coincide); an all-zero column gets coefficient 0.
    The standard errors are σ²((AᵀA + 1e-12·I)⁻¹)ᵢᵢ on the scaled columns, σ²
    the residual variance: they set how far a constant may move when snapped.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        design, target = design * weight[..., None], target * weight
    finite = np.isfinite(design).all(-1) & np.isfinite(target)
    design, target = np.where(finite[..., None], design, 0.0), np.where(finite, target, 0.0)
    scale = np.sqrt(np.mean(design**2, axis=-2))
    used = scale > 0
    scale = np.where(used, scale, 1.0)
    normalised = design / scale[:, None, :]
    left, singular, right = np.linalg.svd(normalised, full_matrices=False)
    cutoff = singular.max(-1, keepdims=True) * np.finfo(np.float64).eps * max(normalised.shape[-2:])
    inverse = np.where(singular > cutoff, 1.0 / np.where(singular > 0, singular, 1.0), 0.0)
    projected = np.einsum("cbp,cb->cp", left, target) * inverse
    solution = np.where(used, np.einsum("cpq,cp->cq", right, projected), 0.0)
    residual = np.einsum("cbp,cp->cb", normalised, solution) - target
    n_free = np.maximum(finite.sum(-1) - used.sum(-1), 1)
    variance = (residual**2).sum(-1) / n_free
    spread = np.einsum("cpq,cp->cq", right**2, 1.0 / (singular**2 + RIDGE))
    errors = np.sqrt(np.maximum(variance[:, None] * spread, 0.0))
    return solution / scale, np.where(used, errors / scale, 0.0)


def solve(x: np.ndarray, y: np.ndarray, exponents, roles, powers) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (C, K) and their standard errors from the linear fit of t·Q = P, t = y^q."""
    target, weight = transformed_target(y, powers)
    return least_squares(ratio_design(monomials(x, exponents), roles, target), target, weight)


def normal_solve(m: np.ndarray, roles: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Coefficients (C, K) of ‖weight·(P − t·Q)‖² by ridge normal equations: fast, for ranking many structures."""
    design = ratio_design(m, roles, target) * weight[..., None]
    target = target * weight
    finite = np.isfinite(design).all(-1) & np.isfinite(target)
    design, target = np.where(finite[..., None], design, 0.0), np.where(finite, target, 0.0)
    square = np.mean(design**2, axis=-2)
    scale = np.where(square > 0, np.sqrt(np.maximum(square, 1e-300)), 1.0)
    normalised = design / scale[:, None, :]
    gram = np.einsum("cbp,cbq->cpq", normalised, normalised) + RIDGE * np.eye(normalised.shape[-1])
    solution = np.linalg.solve(gram, np.einsum("cbp,cb->cp", normalised, target)[..., None])[..., 0]
    return solution / scale


def quick_errors(x: np.ndarray, y: np.ndarray, exponents, roles, powers) -> np.ndarray:
    """Each structure's relative RMS error (C,) with coefficients from the ridge normal equations."""
    m = monomials(x, exponents)
    target, weight = transformed_target(y, powers)
    return relative_rms(law_values(m, normal_solve(m, roles, target, weight), roles, powers), y)


def refine(x, y, exponents, roles, powers, coefficients, errors, free=None):
    """Coefficients (C, K) and standard errors of the least-squares fit of y itself, from ``solve``'s.

    ``solve`` fits t·Q = P with t = y^q, which is linear but, on noisy data,
    biased twice over: its design holds the noisy t (errors in variables), and
    y^q bends the noise, most where |y| is small. Gauss–Newton on
    ‖y − (P/Q)^(1/q)‖² removes both; a step is kept only for the candidates
    whose residual it lowers. ``free`` (C, K), where given, marks the
    coefficients that may move; the others keep their value and error.
    """
    m = monomials(x, exponents)
    inverse = 1.0 / powers[:, None]
    norm = _squared_error(m, y, roles, inverse, coefficients)
    for _ in range(REFINE_STEPS):
        jacobian, residual = _linearised(m, y, roles, inverse, coefficients)
        if free is not None:
            jacobian = jacobian * free[:, None, :]
        finite = np.isfinite(jacobian).all(-1) & np.isfinite(residual)
        step, step_errors = least_squares(jacobian, np.where(finite, residual, 0.0), finite.astype(np.float64))
        trial = coefficients + step
        trial_norm = _squared_error(m, y, roles, inverse, trial)
        better = (trial_norm < norm)[:, None]
        if free is not None:
            step_errors = np.where(free, step_errors, errors)
        coefficients, errors = np.where(better, trial, coefficients), np.where(better, step_errors, errors)
        norm = np.minimum(trial_norm, norm)
    return coefficients, errors


def _squared_error(m, y, roles, inverse, coefficients) -> np.ndarray:
    with np.errstate(all="ignore"):
        error = ((y - signed_power(ratio(m, coefficients, roles), inverse)) ** 2).sum(-1)
    return np.nan_to_num(error, nan=np.inf)


def _linearised(m, y, roles, inverse, coefficients) -> tuple[np.ndarray, np.ndarray]:
    """The Jacobian (C, B, K) of y = (P/Q)^(1/q) in the coefficients, and the residual (C, B)."""
    value = ratio(m, coefficients, roles)
    with np.errstate(all="ignore"):
        denominator = 1.0 + np.einsum("cbk,ck->cb", m, coefficients * (roles < 0))
        slope = inverse * np.abs(value) ** (inverse - 1.0)  # d(t^(1/q))/dt
        jacobian = slope[..., None] * ratio_design(m / denominator[..., None], roles, value)
    return jacobian, y - signed_power(value, inverse)


def relative_rms(prediction: np.ndarray, y: np.ndarray) -> np.ndarray:
    """RMS of prediction − y over RMS of y, per candidate (C,); NaN counts as infinite."""
    with np.errstate(all="ignore"):
        error = np.sqrt(np.mean((prediction - y) ** 2, axis=-1)) / np.sqrt(np.mean(y**2))
    return np.nan_to_num(error, nan=np.inf)


def worst_relative(prediction: np.ndarray, y: np.ndarray) -> np.ndarray:
    """max |prediction − y| / (|y| + 1e-6·RMS(y)) per candidate: exactness row by row."""
    floor = 1e-6 * np.sqrt(np.mean(y**2))
    with np.errstate(all="ignore"):
        error = (np.abs(prediction - y) / (np.abs(y) + floor)).max(-1)
    return np.nan_to_num(error, nan=np.inf)


def prune_terms(coefficients: np.ndarray, roles, m_rms: np.ndarray, t_rms: np.ndarray, threshold: float):
    """Mask (C, K) of the terms that matter: |coefficient|·RMS(monomial) above ``threshold``·RMS(t) in P, ·1 in Q."""
    reference = np.where(roles > 0, t_rms[:, None], 1.0)
    with np.errstate(invalid="ignore"):
        return np.abs(coefficients) * m_rms > threshold * reference
