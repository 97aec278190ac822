"""Exponents onto the lattice: rounded to a grid, then improved by greedy lattice moves, each scored by a solve.

Shape letters: R runs, M moves, K monomials, I inputs.
"""

from __future__ import annotations

import numpy as np

from arithnet.laws.readout.algebra import quick_errors

#: Rows the lattice search scores its moves on (a subset of the training rows), its rounds, and the runs it
#: starts from (those with the lowest unsnapped errors): it costs a solve per move.
SEARCH_ROWS = 256
SEARCH_ROUNDS = 4
SEARCH_RUNS = 6
#: Structures with more exponents than this (K·I) are not searched: the moves grow as K·I².
MAX_SEARCH_EXPONENTS = 60


def snap_exponents(exponents: np.ndarray, grid: int) -> np.ndarray:
    """Each exponent rounded to the nearest multiple of 1/grid."""
    return np.round(exponents * grid) / grid


def lattice_moves(n_terms: int, n_inputs: int) -> np.ndarray:
    """(M, K, I): every move of one exponent by ±½ or ±1, and every ratio move (+1 on one input, −1 on another)."""
    moves = []
    for k in range(n_terms):
        for i in range(n_inputs):
            for step in (-1.0, -0.5, 0.5, 1.0):
                move = np.zeros((n_terms, n_inputs))
                move[k, i] = step
                moves.append(move)
            for j in range(n_inputs):
                if j != i:
                    move = np.zeros((n_terms, n_inputs))
                    move[k, i], move[k, j] = 1.0, -1.0
                    moves.append(move)
    return np.stack(moves)


def lattice_search(x: np.ndarray, y: np.ndarray, exponents: np.ndarray, roles, powers, check=None) -> np.ndarray:
    """Each run's snapped exponents (R, K, I) improved by greedy moves on the lattice, coefficients solved per move.

    Gradient descent brings the exponents near a law; in a flat valley it can
    stop a lattice step or two away (c^−3.5 for c^−4). Trying every neighbour
    with a closed-form solve is cheap and exact where training is not. ``check``, when given, is called
    before each run's search (the time budget's way to stop it).
    """
    x, y = x[:SEARCH_ROWS], y[:SEARCH_ROWS]
    if exponents.shape[1] * exponents.shape[2] > MAX_SEARCH_EXPONENTS:  # the polynomial library: no search
        return exponents
    moves = lattice_moves(*exponents.shape[1:])
    best = exponents.copy()
    for run in range(len(exponents)):
        if check is not None:
            check()
        current = best[run : run + 1]
        error = quick_errors(x, y, current, roles[run : run + 1], powers[run : run + 1])[0]
        for _ in range(SEARCH_ROUNDS):
            trial = current + moves
            n = len(trial)
            scores = quick_errors(
                x, y, trial, np.broadcast_to(roles[run], (n, roles.shape[1])), np.full(n, powers[run])
            )
            if not scores.min() < error * (1 - 1e-9):
                break
            index = int(scores.argmin())
            current, error = trial[index : index + 1], scores[index]
        best[run] = current[0]
    return best
