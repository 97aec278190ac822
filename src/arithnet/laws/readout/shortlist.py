"""Trained or enumerated runs to a short list of distinct fitted structures: snap, drop duplicates, solve, prune, rank.

Shape letters: R runs, C candidates (runs × exponent grids), B rows, I inputs, K monomials.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from arithnet.laws.readout.algebra import law_values, monomials, prune_terms, refine, relative_rms, solve
from arithnet.laws.readout.exponents import SEARCH_RUNS, lattice_search, snap_exponents
from arithnet.laws.readout.rows import Rows
from arithnet.laws.readout.structure import ContinuousFit, Structure

#: Terms whose share of the target is below this are dropped (float64 noise is ~1e-16).
PRUNE_THRESHOLD = 1e-9
#: Distinct structures kept per variant (shape and target power), best held-out error first: on noisy
#: data many variants fit about equally well, and a single list would keep one variant's near-copies.
PER_VARIANT = 2
#: Unsnapped runs of a shortlist kept as continuous fits (the lowest training errors), to compare laws with.
CONTINUOUS_KEPT = 2
#: The best structures of a shortlist whose one-term-smaller versions are read out too, when they have at
#: most MAX_REDUCED_TERMS terms: the polynomial library's 28 terms would make 28 readouts of 27-term laws each.
REDUCED = 8
MAX_REDUCED_TERMS = 6


def without_duplicates(exponents: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """Roles (C, K) with repeated monomials of a role, and constant denominator terms, set to 0.

    Two equal columns make the solve split one coefficient between them; a
    constant in the denominator repeats the fixed 1.
    """
    same = (exponents[:, :, None] == exponents[:, None, :]).all(-1) & (roles[:, :, None] == roles[:, None, :])
    earlier = np.tril(np.ones(same.shape[1:], dtype=bool), -1)
    repeated = (same & earlier).any(-1)
    constant_below = (roles < 0) & (exponents == 0).all(-1)
    return np.where(repeated | constant_below, 0.0, roles)


def pruned(rows: Rows, exponents, roles, powers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve, drop negligible terms, solve again and refine: coefficients, standard errors and roles."""
    for _ in range(2):
        coefficients, errors = solve(rows.x, rows.y, exponents, roles, powers)
        m_rms = np.sqrt(np.mean(monomials(rows.x, exponents) ** 2, axis=-2))
        with np.errstate(all="ignore"):
            t_rms = np.sqrt(np.mean((np.abs(rows.y)[None] ** powers[:, None]) ** 2, axis=-1))
        roles = np.where(prune_terms(coefficients, roles, m_rms, t_rms, PRUNE_THRESHOLD), roles, 0.0)
    coefficients, errors = solve(rows.x, rows.y, exponents, roles, powers)
    coefficients, errors = refine(rows.x, rows.y, exponents, roles, powers, coefficients, errors)
    return coefficients, errors, roles


def degrees_of_freedom(error: np.ndarray, n_parameters, n_rows: int) -> np.ndarray:
    """A training error corrected for the constants fitted to it: error·√(n/(n − p)), infinite for p ≥ n.

    Without it a flexible fit on a few rows (eight planets) would set the noise
    estimate below what any law can reach on rows it has not seen.
    """
    n_free = n_rows - np.asarray(n_parameters, dtype=np.float64)
    return np.where(n_free > 0, error * np.sqrt(n_rows / np.maximum(n_free, 1)), np.inf)


def shortlist(rows: Rows, exponents, roles, powers, labels: list[str], grids, check=None) -> tuple[list, float, list]:
    """The best distinct snapped structures with their held-out errors, the best unsnapped training error, and
    the best unsnapped runs as continuous fits.

    ``exponents`` (R, K, I), ``roles`` (R, K), ``powers`` (R,) as floats and
    ``labels`` (R,) say what each run fitted. ``check``, when given, is called between the steps (the time
    budget's way to stop a shortlist of many structures); it changes nothing else.
    """
    check = check or (lambda: None)
    coefficients, _ = solve(rows.x, rows.y, exponents, roles, powers)
    fitted = relative_rms(law_values(monomials(rows.x, exponents), coefficients, roles, powers), rows.y)
    n_parameters = (roles != 0).sum(-1) * (exponents.shape[-1] + 1)  # each term's exponents and coefficient
    continuous = float(degrees_of_freedom(fitted, n_parameters, len(rows.y)).min())
    best = np.argsort(np.nan_to_num(fitted, nan=np.inf), kind="stable")[:SEARCH_RUNS]
    check()
    searched = lattice_search(rows.x, rows.y, snap_exponents(exponents[best], 2), roles[best], powers[best], check)
    snapped = np.concatenate([*(snap_exponents(exponents, g) for g in grids), searched])
    roles_all = np.concatenate([np.tile(roles, (len(grids), 1)), roles[best]])
    powers_all = np.concatenate([np.tile(powers, len(grids)), powers[best]])
    labels = labels * len(grids) + [labels[i] for i in best.tolist()]
    check()
    coefficients, errors, roles_all = pruned(rows, snapped, without_duplicates(snapped, roles_all), powers_all)
    check()
    held = relative_rms(law_values(monomials(rows.x_held, snapped), coefficients, roles_all, powers_all), rows.y_held)
    chosen = _distinct(snapped, roles_all, coefficients, errors, powers_all, labels, held)
    fits = continuous_fits(rows, exponents[best[:CONTINUOUS_KEPT]], roles[best], powers[best], labels, best)
    return chosen + reduced(rows, [s for s, _ in chosen[:REDUCED]]), continuous, fits


def continuous_fits(rows: Rows, exponents, roles, powers, labels, best) -> list[ContinuousFit]:
    """The runs ``best`` with their exponents as they are, coefficients solved and refined on y."""
    roles, powers = roles[: len(exponents)], powers[: len(exponents)]
    coefficients, errors = solve(rows.x, rows.y, exponents, roles, powers)
    coefficients, _ = refine(rows.x, rows.y, exponents, roles, powers, coefficients, errors)
    return [
        ContinuousFit(exponents[i], roles[i], coefficients[i], float(powers[i]), labels[int(best[i])] + ", unsnapped")
        for i in range(len(exponents))
    ]


def _distinct(exponents, roles, coefficients, errors, powers, labels, held) -> list[tuple[Structure, float]]:
    """The structures, best held-out error first, without repeats, at most PER_VARIANT per label."""
    chosen, seen, per_variant = [], set(), dict.fromkeys(labels, 0)
    for index in np.argsort(held, kind="stable").tolist():
        if not np.isfinite(held[index]):
            break
        if per_variant[labels[index]] == PER_VARIANT:
            continue
        power = Fraction(float(powers[index])).limit_denominator(12)
        structure = Structure(exponents[index], roles[index], coefficients[index], errors[index], power, labels[index])
        if structure.key() not in seen:
            seen.add(structure.key())
            per_variant[labels[index]] += 1
            chosen.append((structure, float(held[index])))
    return chosen


def reduced(rows: Rows, structures: list[Structure]) -> list[tuple[Structure, float]]:
    """Each structure with one of its terms left out, solved again, and its held-out error.

    On noisy rows training may spend a spare monomial on a few rows' noise
    (−0.0015·n/√a, large only where a nears 0): dropping it costs nothing
    held out, and the smaller law is then the simplest at the noise level.
    A structure keeps at least one numerator term.
    """
    drops = [
        (s, np.where(np.arange(len(s.roles)) == k, 0.0, s.roles))
        for s in structures
        if int((s.roles != 0).sum()) <= MAX_REDUCED_TERMS
        for k in np.flatnonzero(s.roles).tolist()
        if int((s.roles > 0).sum()) > int(s.roles[k] > 0)
    ]
    if not drops:
        return []
    exponents = np.stack([s.exponents for s, _ in drops])
    powers = np.array([float(s.power) for s, _ in drops])
    coefficients, errors, roles = pruned(rows, exponents, np.stack([r for _, r in drops]), powers)
    held = relative_rms(law_values(monomials(rows.x_held, exponents), coefficients, roles, powers), rows.y_held)
    return [
        (Structure(exponents[i], roles[i], coefficients[i], errors[i], s.power, s.label), float(held[i]))
        for i, (s, _) in enumerate(drops)
        if np.isfinite(held[i])
    ]
