"""The lattice stage: laws one dimensionless group away from the power law, tried without training.

Many laws are the power law's common factor F times a function of one
dimensionless group g (a variable, or a ratio or product of two): m·c²·(1 − v²/c²)^−½,
ω₀·(1 + v/c)/(1 − v/c), pV/(γ − 1). For each target power q these are
y^q = F·(a + b·g), y^q = F·a/(1 + b·g) and y^q = F·(a + b·g)/(1 + c·g), with F
the power law's exponents times q on the half-integer lattice. Every g in a
small set is tried with a closed-form solve: a few thousand least-squares
problems, far cheaper than training, and exact where gradient descent meets
a narrow well (c^−6 in m·c²/√(1 − v²/c²)). The structures are made and scored
one (shape, power) block at a time, so that memory stays bounded.

Shape letters: E enumerated structures, K = 3 monomial slots, I inputs.
"""

from __future__ import annotations

import itertools

import numpy as np

from arithnet.laws.config import LATTICE_POWERS, FitConfig, power_value
from arithnet.laws.readout.algebra import quick_errors
from arithnet.laws.readout.library import library_size, monomial_library

#: The enumerated structures are first scored on this many training rows; the best KEPT go on.
PREFILTER_ROWS = 128
KEPT = 64
#: Structures scored per batch: about 25 MB of monomials at 128 rows.
CHUNK = 8192
#: Groups enumerated per block: a block is at most 9 shifts × this many groups × 3 slots × the inputs.
GROUPS_PER_BLOCK = 512

#: The common factor is shifted along g in half-lattice steps (½ on g's largest exponent), up to one whole g
#: either way: least squares on log|y| puts part of the sum in it (for ω₀²·(1 + v/c)/(1 − v/c) it finds
#: v^½·c^−½ beside ω₀²; for ω⁴/(ω² − ω₀²)² it finds ω^4.7·ω₀^−4.8, a quarter of (ω/ω₀)² from the law's factor).
MAX_SHIFT_STEPS = 4
#: Single-variable groups xᵢ^a (a from LATTICE_POWERS), ratio groups (xᵢ/xⱼ)^a and product groups (xᵢ·xⱼ)^a:
#: the product of two dimensionless inputs (n·α in nα/(1 − nα/3)). A product's inverse is the shift −1 of its factor.
RATIO_POWERS = (1.0, 2.0)
PRODUCT_POWERS = (1.0,)

#: Each shape: (label, the group's slots as (numerator factor F, numerator F·g, denominator g)), roles.
SHAPES = (
    ("sum of 2", (True, True, False), (1.0, 1.0, 0.0)),
    ("ratio 1/1", (True, False, True), (1.0, 0.0, -1.0)),
    ("ratio 2/1", (True, True, True), (1.0, 1.0, -1.0)),
)


def groups(n_inputs: int) -> np.ndarray:
    """(G, I): every dimensionless group tried."""
    rows = []
    for i in range(n_inputs):
        for a in LATTICE_POWERS:
            row = np.zeros(n_inputs)
            row[i] = a
            rows.append(row)
    for i, j in itertools.permutations(range(n_inputs), 2):
        for a in RATIO_POWERS:
            row = np.zeros(n_inputs)
            row[i], row[j] = a, -a
            rows.append(row)
    for i, j in itertools.combinations(range(n_inputs), 2):
        for a in PRODUCT_POWERS:
            row = np.zeros(n_inputs)
            row[i], row[j] = a, a
            rows.append(row)
    return np.stack(rows)


def shifts(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, G): each shift of the factor as a multiple of its group, and whether it is used (at most one g)."""
    steps = np.arange(-MAX_SHIFT_STEPS, MAX_SHIFT_STEPS + 1, dtype=np.float64)[:, None]
    shift = steps * 0.5 / np.abs(g).max(-1)[None]
    return shift, np.abs(shift) <= 1.0 + 1e-12


def lattice_blocks(bases: np.ndarray, config: FitConfig):
    """Every enumerated structure, a block at a time: (exponents, roles, powers, label).

    ``bases`` (N, I) are the power laws whose common factor is shifted (the
    plain and the |y|-weighted fit). A block is one centre, shape and power,
    and at most GROUPS_PER_BLOCK groups: its size stays bounded whatever the columns.
    """
    every = groups(bases.shape[1])
    for start in range(0, len(every), GROUPS_PER_BLOCK):
        g = every[start : start + GROUPS_PER_BLOCK]
        shift, valid = shifts(g)
        n = int(valid.sum())
        for base, (label, used, role) in itertools.product(bases, SHAPES):
            for text in config.ratio_powers if label.startswith("ratio") else config.sum_powers:
                q = power_value(text)
                factor = (np.round(2 * q * base) / 2) + shift[..., None] * g[None]  # (S, G, I)
                slots = np.stack([factor, factor + g, np.broadcast_to(g, factor.shape)], -2)  # (S, G, 3, I)
                exponents = (slots * np.array(used, dtype=np.float64)[:, None])[valid]
                target = "y" if text == "1" else f"y^{text}"
                yield exponents, np.broadcast_to(np.array(role), (n, 3)), np.full(n, q), f"{target} = {label} (lattice)"


def prefiltered(x: np.ndarray, y: np.ndarray, blocks, deadline=None):
    """The KEPT structures with the lowest relative error on the first PREFILTER_ROWS rows.

    One batched normal-equations solve per chunk of CHUNK structures; only the
    best go through the careful readout (SVD, pruning, snapping), which costs
    a thousand times more per structure. ``deadline`` (a callable that says
    whether time is up) stops the scoring between chunks.
    """
    x, y = x[:PREFILTER_ROWS], y[:PREFILTER_ROWS]
    kept: list[tuple[float, np.ndarray, np.ndarray, float, str]] = []
    for exponents, roles, powers, label in blocks:
        for start in range(0, len(exponents), CHUNK):
            chunk = slice(start, start + CHUNK)
            part = exponents[chunk], roles[chunk], powers[chunk]
            errors = quick_errors(x, y, *part)
            for index in np.argsort(errors, kind="stable")[:KEPT].tolist():
                kept.append((float(errors[index]), part[0][index], part[1][index], part[2][index], label))
            kept = sorted(kept, key=lambda item: item[0])[:KEPT]
        if deadline is not None and deadline():
            break
    exponents = np.stack([item[1] for item in kept])
    return exponents, np.stack([item[2] for item in kept]), np.array([item[3] for item in kept]), [k[4] for k in kept]


#: The polynomial library's largest total degree, and its largest number of terms.
POLYNOMIAL_DEGREE = 2
MAX_POLYNOMIAL_TERMS = 60


def polynomial_structures(n_inputs: int, config: FitConfig):
    """y^q = a polynomial of total degree ≤ 2, one structure per target power (SINDy's library).

    (x₂ − x₁)² + (y₂ − y₁)² is six monomials in four inputs: more than a trained
    stage finds, one least-squares solve here. Unused terms are pruned by the readout.
    """
    if library_size(n_inputs, POLYNOMIAL_DEGREE) > MAX_POLYNOMIAL_TERMS:
        return None
    library = monomial_library(n_inputs, POLYNOMIAL_DEGREE)
    powers = np.array([power_value(text) for text in config.sum_powers])
    labels = [("y" if text == "1" else f"y^{text}") + " = polynomial of degree 2" for text in config.sum_powers]
    roles = np.ones((len(powers), len(library)))
    return np.broadcast_to(library, (len(powers), *library.shape)).copy(), roles, powers, labels
