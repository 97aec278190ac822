"""Constants snapped in turn: the best-determined first, the others refitted with it fixed.

The constants of a ratio are strongly correlated: in (a₀ + a₁z)/(1 + bz) a
small change of a₀ is made up by a₁ and b. Snapped one by one from the same
fit, all three can sit four of their own standard errors from 1, 2/3 and −1/3
(1.0019, 0.6586, −0.3377 on 1% noise), and each then snaps to a costly
neighbour (89/(9π²), 39/(6π²), −10/(3π²)). Fixing a₀ = 1 and refitting moves
a₁ and b to 0.666 and −0.333, which snap to what they are.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from arithnet.laws.readout.algebra import refine
from arithnet.laws.readout.constants import snapped_constant
from arithnet.laws.readout.expression import LOG_FLOAT_LIMIT
from arithnet.laws.readout.rows import Rows
from arithnet.laws.readout.structure import Structure


def unit_factors(structure: Structure, rows: Rows) -> np.ndarray:
    """(K,) the log of what turns each scaled coefficient into the table's units (``expression.table_coefficients``)."""
    log_factor = -(structure.exponents @ rows.log_x)
    return log_factor + np.where(structure.roles > 0, float(structure.power) * rows.log_y, 0.0)


def snapped_in_turn(rows: Rows, structure: Structure, max_denominator: int, sigmas: float) -> Structure | None:
    """The structure with every coefficient snapped in the table's units, one at a time; None when one does not snap.

    Only for y = P/Q (target power 1), whose coefficients the readout snaps
    one by one. Under a power the readout takes the leading coefficient out as
    |c|^(1/q) (expression.law_expression), a parametrisation this does not follow.
    """
    if structure.power != 1:
        return None
    log_factor = unit_factors(structure, rows)
    if np.abs(log_factor).max(initial=0.0) > LOG_FLOAT_LIMIT:
        return None  # a constant beyond float64's range is no small rational
    factor = np.exp(log_factor)
    exponents, roles, powers = structure.exponents[None], structure.roles[None], np.ones(1)
    coefficients, errors = structure.coefficients[None].copy(), structure.errors[None].copy()
    free = structure.roles[None] != 0
    while free.any():
        relative = np.where(free, errors / np.maximum(np.abs(coefficients), 1e-300), np.inf)
        k = int(relative.argmin())
        value, error = float(coefficients[0, k] * factor[k]), float(errors[0, k] * factor[k])
        if not math.isfinite(value):
            return None
        snapped = snapped_constant(value, error, max_denominator, sigmas)
        if snapped is None:
            return None
        coefficients[0, k], errors[0, k], free[0, k] = float(snapped) / factor[k], 0.0, False
        coefficients, errors = refine(rows.x, rows.y, exponents, roles, powers, coefficients, errors, free)
    return replace(structure, coefficients=coefficients[0], errors=errors[0])
