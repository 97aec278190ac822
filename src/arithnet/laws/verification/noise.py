"""Is what a law leaves noise? An F-test of its held-out residuals against smooth functions of the inputs.

A law may be "verified to the noise level" only when its residuals have no
structure left: otherwise a search that found nothing would call its best
miss noise. A wrong law leaves a smooth misfit, which low-order polynomials
of the inputs explain; noise they do not.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import spatial, stats

#: Below this p-value the residuals are called structured.
STRUCTURE_P_VALUE = 1e-3
#: Standard deviations below 1 at which the nearest-neighbour ratio calls the residuals smooth.
NEIGHBOUR_SIGMAS = 4.0


def standardised(x: np.ndarray) -> np.ndarray:
    """Each column centred and divided by its standard deviation, computed on the column over its largest
    magnitude first: a column of 1e300 would overflow its own variance."""
    largest = np.abs(x).max(0)
    x = x / np.where(largest > 0, largest, 1.0)
    spread = x.std(0)
    return (x - x.mean(0)) / np.where(spread > 0, spread, 1.0)


def smooth_features(x: np.ndarray) -> np.ndarray:
    """Standardised inputs, their squares and cubes, and (when rows allow) their pairwise products: (B, F)."""
    z = standardised(x)
    columns = [z, z**2, z**3]
    pairs = list(itertools.combinations(range(x.shape[1]), 2))
    if 3 * x.shape[1] + len(pairs) <= len(x) // 3:
        columns.append(np.stack([z[:, i] * z[:, j] for i, j in pairs], 1) if pairs else z[:, :0])
    return np.concatenate(columns, 1)


def structure_p_value(x: np.ndarray, residual: np.ndarray) -> float:
    """The F-test's p-value for "the residuals are a constant plus noise" against a cubic in x.

    scipy.stats.f gives the tail; a p-value near 0 means structure is left.
    """
    if not np.isfinite(residual).all():
        return 0.0
    features = smooth_features(x)
    n_rows, n_features = features.shape
    if n_rows <= n_features + 2:
        return 1.0
    centred = residual - residual.mean()
    design = np.concatenate([np.ones((n_rows, 1)), features], 1)
    solution, *_ = np.linalg.lstsq(design, residual, rcond=None)
    explained_not = np.sum((residual - design @ solution) ** 2)
    total = np.sum(centred**2)
    if total == 0 or explained_not == 0:
        return 1.0 if total == 0 else 0.0
    f_value = ((total - explained_not) / n_features) / (explained_not / (n_rows - n_features - 1))
    return float(stats.f.sf(f_value, n_features, n_rows - n_features - 1))


def neighbour_ratio(x: np.ndarray, residual: np.ndarray) -> float:
    """mean((rᵢ − r_nearest(i))²) / (2·var r): about 1 for noise, well below 1 for a smooth misfit.

    Nearest neighbours in standardised inputs (scipy's cKDTree). Unlike the
    F-test it sees structure of any shape, such as the misfit of a polynomial
    to (m₁r₁ + m₂r₂)/(m₁ + m₂), whose residual is mostly higher interactions.
    """
    if not np.isfinite(residual).all():
        return 0.0
    z = standardised(x)
    _, nearest = spatial.cKDTree(z).query(z, k=2)
    variance = residual.var()
    if variance == 0:
        return 1.0
    return float(np.mean((residual - residual[nearest[:, 1]]) ** 2) / (2 * variance))


def looks_like_noise(x: np.ndarray, residual: np.ndarray) -> bool:
    """Residuals with no structure left: the F-test against a cubic passes, and so does the neighbour ratio.

    Under noise the ratio's standard deviation is about √(2/n); it must not fall
    NEIGHBOUR_SIGMAS of those below 1.
    """
    if structure_p_value(x, residual) < STRUCTURE_P_VALUE:
        return False
    return neighbour_ratio(x, residual) >= 1.0 - NEIGHBOUR_SIGMAS * np.sqrt(2.0 / len(residual))
