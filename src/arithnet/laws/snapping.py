"""Constants snapped in turn: the best-determined first, the others refitted with it fixed.

The constants of a ratio are strongly correlated: in (a₀ + a₁z)/(1 + bz) a
small change of a₀ is made up by a₁ and b. Snapped one by one from the same
fit, all three can sit four of their own standard errors from 1, 2/3 and −1/3
(1.0019, 0.6586, −0.3377 on 1% noise), and each then snaps to a costly
neighbour (89/(9π²), 39/(6π²), −10/(3π²)). Fixing a₀ = 1 and refitting moves
a₁ and b to 0.666 and −0.333, which snap to what they are.
"""

from __future__ import annotations

import torch

from arithnet.laws.expression import Structure, snapped_constant
from arithnet.laws.readout import refine
from arithnet.laws.structures import Rows


def snapped_in_turn(rows: Rows, structure: Structure, max_denominator: int, sigmas: float) -> Structure | None:
    """The structure with every coefficient snapped, one at a time; None when one does not snap.

    Only for y = P/Q (target power 1), whose coefficients the readout snaps
    one by one. Under a power the readout takes the leading coefficient out as
    |c|^(1/q) (expression.law_expression), a parametrisation this does not follow.
    """
    if structure.power != 1:
        return None
    exponents, roles, powers = structure.exponents[None], structure.roles[None], torch.ones(1, dtype=torch.float64)
    coefficients, errors = structure.coefficients[None].clone(), structure.errors[None].clone()
    free = structure.roles[None] != 0
    while bool(free.any()):
        k = int(torch.where(free, errors / coefficients.abs().clamp_min(1e-300), torch.inf).argmin())
        snapped = snapped_constant(float(coefficients[0, k]), float(errors[0, k]), max_denominator, sigmas)
        if snapped is None:
            return None
        coefficients[0, k], errors[0, k], free[0, k] = float(snapped), 0.0, False
        coefficients, errors = refine(rows.x, rows.y, exponents, roles, powers, coefficients, errors, free)
    return Structure(structure.exponents, structure.roles, coefficients[0], errors[0], structure.power, structure.label)
