"""Trained runs to a short list of distinct fitted structures: snap, drop duplicates, solve, prune, rank.

Shape letters: R runs, C candidates (runs × exponent grids), B rows, I inputs, K monomials.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import torch

from arithnet.laws.expression import Structure
from arithnet.laws.readout import predict, prune_terms, quick_errors, refine, relative_rms, snap_exponents, solve
from arithnet.units.law_net import monomials

#: Terms whose share of the target is below this are dropped (float64 noise is ~1e-16).
PRUNE_THRESHOLD = 1e-9
#: Distinct structures kept per variant (shape and target power), best held-out error first: on noisy
#: data many variants fit about equally well, and a single list would keep one variant's near-copies.
PER_VARIANT = 2


@dataclass
class Rows:
    """The table split for one search: training rows and held-out rows, float64."""

    x: torch.Tensor
    y: torch.Tensor
    x_held: torch.Tensor
    y_held: torch.Tensor


def without_duplicates(exponents: torch.Tensor, roles: torch.Tensor) -> torch.Tensor:
    """Roles (C, K) with repeated monomials of a role, and constant denominator terms, set to 0.

    Two equal columns make the solve split one coefficient between them; a
    constant in the denominator repeats the fixed 1.
    """
    same = (exponents[:, :, None] == exponents[:, None, :]).all(-1) & (roles[:, :, None] == roles[:, None, :])
    earlier = torch.ones_like(same[0]).tril(-1).bool()
    repeated = (same & earlier).any(-1)
    constant_below = (roles < 0) & (exponents == 0).all(-1)
    return torch.where(repeated | constant_below, 0.0, roles)


def pruned(rows: Rows, exponents, roles, powers) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Solve, drop negligible terms, solve again and refine: coefficients, standard errors and roles."""
    for _ in range(2):
        coefficients, errors = solve(rows.x, rows.y, exponents, roles, powers)
        m_rms = monomials(rows.x, exponents).square().mean(-2).sqrt()
        t_rms = (rows.y.abs()[None] ** powers[:, None]).square().mean(-1).sqrt()
        roles = torch.where(prune_terms(coefficients, roles, m_rms, t_rms, PRUNE_THRESHOLD), roles, 0.0)
    coefficients, errors = solve(rows.x, rows.y, exponents, roles, powers)
    coefficients, errors = refine(rows.x, rows.y, exponents, roles, powers, coefficients, errors)
    return coefficients, errors, roles


#: Rows the lattice search scores its moves on (a subset of the training rows), its rounds, and the runs
#: it starts from (those with the lowest unsnapped errors): it costs a solve per move.
SEARCH_ROWS = 256
SEARCH_ROUNDS = 4
SEARCH_RUNS = 6
#: Structures with more exponents than this (K·I) are not searched: the moves grow as K·I².
MAX_SEARCH_EXPONENTS = 60


def degrees_of_freedom(error: torch.Tensor, n_parameters, n_rows: int) -> torch.Tensor:
    """A training error corrected for the constants fitted to it: error·√(n/(n − p)), infinite for p ≥ n.

    Without it a flexible fit on a few rows (eight planets) would set the noise
    estimate below what any law can reach on rows it has not seen.
    """
    n_free = n_rows - torch.as_tensor(n_parameters, dtype=error.dtype)
    return torch.where(n_free > 0, error * torch.sqrt(n_rows / n_free.clamp_min(1)), torch.inf)


def lattice_moves(n_terms: int, n_inputs: int) -> torch.Tensor:
    """(M, K, I): every move of one exponent by ±½ or ±1, and every ratio move (+1 on one input, −1 on another)."""
    moves = []
    for k in range(n_terms):
        for i in range(n_inputs):
            for step in (-1.0, -0.5, 0.5, 1.0):
                move = torch.zeros(n_terms, n_inputs, dtype=torch.float64)
                move[k, i] = step
                moves.append(move)
            for j in range(n_inputs):
                if j != i:
                    move = torch.zeros(n_terms, n_inputs, dtype=torch.float64)
                    move[k, i], move[k, j] = 1.0, -1.0
                    moves.append(move)
    return torch.stack(moves)


def lattice_search(rows: Rows, exponents: torch.Tensor, roles: torch.Tensor, powers: torch.Tensor) -> torch.Tensor:
    """Each run's snapped exponents (R, K, I) improved by greedy moves on the lattice, coefficients solved per move.

    Gradient descent brings the exponents near a law; in a flat valley it can
    stop a lattice step or two away (c^−3.5 for c^−4). Trying every neighbour
    with a closed-form solve is cheap and exact where training is not.
    """
    x, y = rows.x[:SEARCH_ROWS], rows.y[:SEARCH_ROWS]
    if exponents.shape[1] * exponents.shape[2] > MAX_SEARCH_EXPONENTS:  # the polynomial library: no search
        return exponents
    moves = lattice_moves(*exponents.shape[1:])
    best = exponents.clone()
    for run in range(len(exponents)):
        current = best[run : run + 1]
        error = quick_errors(x, y, current, roles[run : run + 1], powers[run : run + 1])[0]
        for _ in range(SEARCH_ROUNDS):
            trial = current + moves
            n = len(trial)
            scores = quick_errors(x, y, trial, roles[run].expand(n, -1), powers[run].expand(n))
            if not bool(scores.min() < error * (1 - 1e-9)):
                break
            index = int(scores.argmin())
            current, error = trial[index : index + 1], scores[index]
        best[run] = current[0]
    return best


def shortlist(rows: Rows, exponents, roles, powers, labels: list[str], grids) -> tuple[list, float]:
    """The best distinct snapped structures with their held-out errors, and the best unsnapped training error.

    ``exponents`` (R, K, I), ``roles`` (R, K), ``powers`` (R,) as floats and
    ``labels`` (R,) say what each run fitted.
    """
    coefficients, _ = solve(rows.x, rows.y, exponents, roles, powers)
    fitted = relative_rms(predict(rows.x, exponents, roles, coefficients, powers), rows.y)
    n_parameters = (roles != 0).sum(-1) * (exponents.shape[-1] + 1)  # each term's exponents and coefficient
    continuous = float(degrees_of_freedom(fitted, n_parameters, len(rows.y)).min())
    snapped = [snap_exponents(exponents, g) for g in grids]
    best = torch.argsort(torch.nan_to_num(fitted, nan=torch.inf))[:SEARCH_RUNS]
    searched = lattice_search(rows, snap_exponents(exponents[best], 2), roles[best], powers[best])
    snapped = torch.cat([*snapped, searched])
    roles_all = torch.cat([roles.repeat(len(grids), 1), roles[best]])
    powers_all = torch.cat([powers.repeat(len(grids)), powers[best]])
    labels = labels * len(grids) + [labels[i] for i in best.tolist()]
    roles, powers = without_duplicates(snapped, roles_all), powers_all
    coefficients, errors, roles = pruned(rows, snapped, roles, powers)
    held = relative_rms(predict(rows.x_held, snapped, roles, coefficients, powers), rows.y_held)
    chosen, seen, per_variant = [], set(), dict.fromkeys(labels, 0)
    for index in torch.argsort(held).tolist():
        if not torch.isfinite(held[index]):
            break
        if per_variant[labels[index]] == PER_VARIANT:
            continue
        power = Fraction(float(powers[index])).limit_denominator(12)
        s = Structure(snapped[index], roles[index], coefficients[index], errors[index], power, labels[index])
        if s.key() not in seen:
            seen.add(s.key())
            per_variant[labels[index]] += 1
            chosen.append((s, float(held[index])))
    return chosen + reduced(rows, [s for s, _ in chosen[:REDUCED]]), continuous


#: The best structures of a shortlist whose one-term-smaller versions are read out too, when they have at
#: most MAX_REDUCED_TERMS terms: the polynomial library's 28 terms would make 28 readouts of 27-term laws each.
REDUCED = 8
MAX_REDUCED_TERMS = 6


def reduced(rows: Rows, structures: list[Structure]) -> list[tuple[Structure, float]]:
    """Each structure with one of its terms left out, solved again, and its held-out error.

    On noisy rows training may spend a spare monomial on a few rows' noise
    (−0.0015·n/√a, large only where a nears 0): dropping it costs nothing
    held out, and the smaller law is then the simplest at the noise level.
    A structure keeps at least one numerator term.
    """
    drops = [
        (s, torch.where(torch.arange(len(s.roles)) == k, 0.0, s.roles))
        for s in structures
        if int((s.roles != 0).sum()) <= MAX_REDUCED_TERMS
        for k in torch.nonzero(s.roles)[:, 0].tolist()
        if int((s.roles > 0).sum()) > int(s.roles[k] > 0)
    ]
    if not drops:
        return []
    exponents = torch.stack([s.exponents for s, _ in drops])
    powers = torch.tensor([float(s.power) for s, _ in drops], dtype=torch.float64)
    coefficients, errors, roles = pruned(rows, exponents, torch.stack([r for _, r in drops]), powers)
    held = relative_rms(predict(rows.x_held, exponents, roles, coefficients, powers), rows.y_held)
    return [
        (Structure(exponents[i], roles[i], coefficients[i], errors[i], s.power, s.label), float(held[i]))
        for i, (s, _) in enumerate(drops)
        if torch.isfinite(held[i])
    ]
