"""From trained exponents to fitted structures, for many runs at once, in float64.

Each run's exponents are snapped to a grid, its coefficients solved again on
every training row, and the result predicted on the held-out rows: all runs
in a few batched tensor operations. Shape letters: C candidate structures,
B rows, I inputs, K monomials.
"""

from __future__ import annotations

import torch

from arithnet.units.law_net import (
    law,
    monomials,
    ratio,
    ratio_design,
    signed_power,
    solve_coefficients,
    transformed_target,
)


def snap_exponents(exponents: torch.Tensor, grid: int) -> torch.Tensor:
    """Each exponent rounded to the nearest multiple of 1/grid."""
    return torch.round(exponents * grid) / grid


def least_squares(design: torch.Tensor, target: torch.Tensor, weight: torch.Tensor):
    """Per candidate: the solution of design·c ≈ target (C, P) and its standard errors (C, P).

    Rows are weighted by ``weight`` (C, B), columns scaled to unit RMS; all-zero columns get coefficient 0.
    The standard errors are the usual σ²(AᵀA)⁻¹ ones, σ² the residual variance:
    they set how far a constant may be moved when it is snapped.
    """
    design, target = design * weight[..., None], target * weight
    scale = design.square().mean(-2).sqrt()
    used = scale > 0
    scale = torch.where(used, scale, torch.ones_like(scale))
    normalised = design / scale[:, None]
    solution = torch.linalg.lstsq(normalised, target[..., None], driver="gelsd").solution[..., 0]
    solution = torch.where(used, solution, 0.0)
    residual = (normalised @ solution[..., None])[..., 0] - target
    n_free = (design.shape[-2] - used.sum(-1)).clamp_min(1)
    variance = residual.square().sum(-1) / n_free
    eye = torch.eye(design.shape[-1], dtype=design.dtype)
    gram = normalised.mT @ normalised + 1e-12 * eye
    errors = torch.sqrt((variance[:, None] * torch.linalg.inv(gram).diagonal(dim1=-2, dim2=-1)).clamp_min(0))
    return solution / scale, torch.where(used, errors / scale, 0.0)


def solve(x: torch.Tensor, y: torch.Tensor, exponents, roles, powers) -> tuple[torch.Tensor, torch.Tensor]:
    """Coefficients (C, K) and their standard errors for exponents (C, K, I), roles (C, K), powers (C,)."""
    target, weight = transformed_target(y[None].expand(len(powers), -1), powers)
    return least_squares(ratio_design(monomials(x, exponents), roles, target), target, weight)


#: Gauss–Newton steps of ``refine``: from the linear solve's start a ratio converges in two or three.
REFINE_STEPS = 6


def refine(x: torch.Tensor, y: torch.Tensor, exponents, roles, powers, coefficients, errors, free=None):
    """Coefficients (C, K) and standard errors of the least-squares fit of y itself, from ``solve``'s.

    ``solve`` fits t·Q = P with t = y^q, which is linear but, on noisy data,
    biased twice over: its design holds the noisy t (errors in variables), and
    y^q bends the noise, most where |y| is small. On 1% noise that moved 2/3 in
    (1 + 2z/3)/(1 − z/3) by three standard errors, and the 1 in
    y = K·(1 − ω₀²/ω²)^−2 to 1.0037. Gauss–Newton on ‖y − (P/Q)^(1/q)‖² removes
    both; a step is kept only for the candidates whose residual it lowers.
    ``free`` (C, K), where given, marks the coefficients that may move; the others keep their value and error.
    """
    m = monomials(x, exponents)
    inverse = 1.0 / powers[:, None]

    def squared_error(c: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num((y - signed_power(ratio(m, c, roles), inverse)).square().sum(-1), nan=torch.inf)

    residual_norm = squared_error(coefficients)
    for _ in range(REFINE_STEPS):
        value = ratio(m, coefficients, roles)
        denominator = 1.0 + m @ (coefficients * (roles < 0))[..., None]
        slope = inverse * value.abs() ** (inverse - 1.0)  # d(t^(1/q))/dt
        jacobian = slope[..., None] * ratio_design(m / denominator, roles, value)
        if free is not None:
            jacobian = jacobian * free[:, None, :]
        residual = y - signed_power(value, inverse)
        # Rows where a candidate is infinite (Q = 0, or t = 0 under 1/q < 1) take no part in its step.
        finite = torch.isfinite(jacobian).all(-1) & torch.isfinite(residual)
        jacobian = torch.where(finite[..., None], jacobian, 0.0)
        step, step_errors = least_squares(jacobian, torch.where(finite, residual, 0.0), finite.to(y.dtype))
        trial = coefficients + step
        trial_norm = squared_error(trial)
        better = (trial_norm < residual_norm)[:, None]
        if free is not None:
            step_errors = torch.where(free, step_errors, errors)
        coefficients, errors = torch.where(better, trial, coefficients), torch.where(better, step_errors, errors)
        residual_norm = torch.minimum(trial_norm, residual_norm)
    return coefficients, errors


def predict(x: torch.Tensor, exponents, roles, coefficients, powers) -> torch.Tensor:
    """y (C, B) of each candidate: t = P/Q, y = sign(t)·|t|^(1/q)."""
    return law(monomials(x, exponents), coefficients, roles, powers)[..., 0]


@torch.no_grad()
def quick_errors(x: torch.Tensor, y: torch.Tensor, exponents, roles, powers) -> torch.Tensor:
    """Each structure's relative RMS error (C,) with coefficients from LawNet's batched normal equations.

    Fast and a little less precise than ``solve``: for ranking thousands of
    structures or moves, before the careful readout of the few that remain.
    """
    m = monomials(x, exponents)
    target, weight = transformed_target(y[None].expand(len(powers), -1), powers)
    return relative_rms(law(m, solve_coefficients(m, roles, target, weight), roles, powers)[..., 0], y)


def relative_rms(prediction: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """RMS of prediction − y over RMS of y, per candidate (C,); NaN counts as infinite."""
    error = (prediction - y).square().mean(-1).sqrt() / y.square().mean().sqrt()
    return torch.nan_to_num(error, nan=torch.inf)


def worst_relative(prediction: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """max |prediction − y| / (|y| + 1e-6·RMS(y)) per candidate: exactness row by row."""
    floor = 1e-6 * y.square().mean().sqrt()
    error = ((prediction - y).abs() / (y.abs() + floor)).amax(-1)
    return torch.nan_to_num(error, nan=torch.inf)


def prune_terms(coefficients: torch.Tensor, roles, m_rms: torch.Tensor, t_rms: torch.Tensor, threshold: float):
    """Mask (C, K) of the terms that matter.

    A numerator term matters when |coefficient|·RMS(monomial) exceeds
    ``threshold``·RMS(t); a denominator term when it exceeds ``threshold``
    (the fixed 1 sets the denominator's scale).
    """
    reference = torch.where(roles > 0, t_rms[:, None], 1.0)
    return coefficients.abs() * m_rms > threshold * reference
