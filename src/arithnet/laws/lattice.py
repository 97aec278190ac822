"""The lattice stage: laws one dimensionless group away from the power law, tried without training.

Many laws are the power law's common factor F times a function of one
dimensionless group g (a variable, or a ratio or product of two): m·c²·(1 − v²/c²)^−½,
ω₀·(1 + v/c)/(1 − v/c), pV/(γ − 1). For each target power q these are
y^q = F·(a + b·g), y^q = F·a/(1 + b·g) and y^q = F·(a + b·g)/(1 + c·g), with F
the power law's exponents times q on the half-integer lattice. Every g in a
small set is tried with a closed-form solve: a few hundred least-squares
problems, far cheaper than training, and exact where gradient descent meets
a narrow well (c^−6 in m·c²/√(1 − v²/c²)).

Shape letters: E enumerated structures, K = 3 monomial slots, I inputs.
"""

from __future__ import annotations

import itertools

import torch

from arithnet.laws.config import FitConfig, power_value
from arithnet.laws.readout import quick_errors

#: The enumerated structures are first scored on this many training rows; the best KEPT go on.
PREFILTER_ROWS = 128
KEPT = 64

#: The common factor is shifted along g in half-lattice steps (½ on g's largest exponent), up to one whole g
#: either way: least squares on log|y| puts part of the sum in it (for ω₀²·(1 + v/c)/(1 − v/c) it finds
#: v^½·c^−½ beside ω₀²; for ω⁴/(ω² − ω₀²)² it finds ω^4.7·ω₀^−4.8, a quarter of (ω/ω₀)² from the law's factor).
MAX_SHIFT_STEPS = 4
#: Single-variable groups xᵢ^a, ratio groups (xᵢ/xⱼ)^a and product groups (xᵢ·xⱼ)^a: the product of two
#: dimensionless inputs (n·α in nα/(1 − nα/3)). A product's inverse is the shift −1 of its factor.
SINGLE_POWERS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
RATIO_POWERS = (1.0, 2.0)
PRODUCT_POWERS = (1.0,)


def groups(n_inputs: int) -> torch.Tensor:
    """(G, I): every dimensionless group tried."""
    rows = []
    for i in range(n_inputs):
        for a in SINGLE_POWERS:
            rows.append(torch.zeros(n_inputs, dtype=torch.float64).index_fill(0, torch.tensor([i]), a))
    for i, j in itertools.permutations(range(n_inputs), 2):
        for a in RATIO_POWERS:
            row = torch.zeros(n_inputs, dtype=torch.float64)
            row[i], row[j] = a, -a
            rows.append(row)
    for i, j in itertools.combinations(range(n_inputs), 2):
        for a in PRODUCT_POWERS:
            row = torch.zeros(n_inputs, dtype=torch.float64)
            row[i], row[j] = a, a
            rows.append(row)
    return torch.stack(rows)


#: Each shape: (label, the group's slots as (numerator factor F, numerator F·g, denominator g)), roles.
SHAPES = (
    ("sum of 2", (True, True, False), (1.0, 1.0, 0.0)),
    ("ratio 1/1", (True, False, True), (1.0, 0.0, -1.0)),
    ("ratio 2/1", (True, True, True), (1.0, 1.0, -1.0)),
)


def shifts(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(S, G): each shift of the factor as a multiple of its group, and whether it is used (at most one g)."""
    steps = torch.arange(-MAX_SHIFT_STEPS, MAX_SHIFT_STEPS + 1, dtype=torch.float64)[:, None]
    shift = steps * 0.5 / g.abs().amax(-1)[None]
    return shift, shift.abs() <= 1.0 + 1e-12


def lattice_structures(base: torch.Tensor, config: FitConfig):
    """Every enumerated structure: exponents (E, 3, I), roles (E, 3), powers (E,) and labels (E,)."""
    g = groups(len(base))
    shift, valid = shifts(g)
    n = int(valid.sum())
    exponents, roles, powers, labels = [], [], [], []
    for label, used, role in SHAPES:
        ratio = label.startswith("ratio")
        for text in config.ratio_powers if ratio else config.sum_powers:
            q = power_value(text)
            factor = (torch.round(2 * q * base) / 2) + shift[..., None] * g[None]  # (S, G, I)
            slots = torch.stack([factor, factor + g, g.expand_as(factor)], -2)  # (S, G, 3, I)
            exponents.append((slots * torch.tensor(used, dtype=torch.float64)[:, None])[valid])
            roles.append(torch.tensor(role, dtype=torch.float64).expand(n, -1))
            powers.append(torch.full((n,), q, dtype=torch.float64))
            target = "y" if text == "1" else f"y^{text}"
            labels += [f"{target} = {label} (lattice)"] * n
    return torch.cat(exponents), torch.cat(roles), torch.cat(powers), labels


def lattice_from(bases: torch.Tensor, config: FitConfig):
    """``lattice_structures`` around each power law of ``bases`` (N, I), concatenated."""
    parts = [lattice_structures(base, config) for base in bases]
    exponents, roles, powers = (torch.cat([part[i] for part in parts]) for i in range(3))
    return exponents, roles, powers, [label for part in parts for label in part[3]]


def prefiltered(x: torch.Tensor, y: torch.Tensor, exponents, roles, powers, labels: list[str]):
    """The KEPT structures with the lowest relative error on the first PREFILTER_ROWS rows.

    One batched normal-equations solve (LawNet's own) for thousands of
    structures; only the best go through the careful readout (lstsq, pruning,
    snapping), which costs a thousand times more per structure.
    """
    best = torch.argsort(quick_errors(x[:PREFILTER_ROWS], y[:PREFILTER_ROWS], exponents, roles, powers))[:KEPT]
    return exponents[best], roles[best], powers[best], [labels[i] for i in best.tolist()]


#: The polynomial library's largest total degree, and its largest number of terms.
POLYNOMIAL_DEGREE = 2
MAX_POLYNOMIAL_TERMS = 60


def polynomial_structures(n_inputs: int, config: FitConfig):
    """y^q = a polynomial of total degree ≤ 2, one structure per target power (SINDy's library).

    (x₂ − x₁)² + (y₂ − y₁)² is six monomials in four inputs: more than a trained
    stage finds, one least-squares solve here. Unused terms are pruned by the readout.
    """
    terms = [torch.zeros(n_inputs, dtype=torch.float64)]
    for degree in range(1, POLYNOMIAL_DEGREE + 1):
        for combination in itertools.combinations_with_replacement(range(n_inputs), degree):
            term = torch.zeros(n_inputs, dtype=torch.float64)
            for i in combination:
                term[i] += 1.0
            terms.append(term)
    if len(terms) > MAX_POLYNOMIAL_TERMS:
        return None
    library = torch.stack(terms)
    powers = torch.tensor([power_value(text) for text in config.sum_powers], dtype=torch.float64)
    labels = [("y" if text == "1" else f"y^{text}") + " = polynomial of degree 2" for text in config.sum_powers]
    roles = torch.ones(len(powers), len(library), dtype=torch.float64)
    return library.expand(len(powers), -1, -1).clone(), roles, powers, labels
