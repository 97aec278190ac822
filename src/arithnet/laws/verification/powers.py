"""Is a noise-level law the best of its own shape? Each power of a sum moved to its neighbours on the lattice.

A law is called ``noise`` when it fits to the noise level, and the noise
level is estimated from the search's own fits: a wrong law that is the best
fit the search made sets the level it is then held to. One check does not
depend on what the search tried. A law of the class is the best fit of its
own shape: moving the power of one of its sums by ½ (the −1 of a ratio to −½
or −3/2, the ½ of a root to 0 or 1), every coefficient refitted, makes the fit
worse. A law that only approximates the truth need not be: 6(x − ut)/(6 − π·u²/c²),
a Padé form of (x − ut)/√(1 − u²/c²), fits 1% noisy rows to the noise level,
and with the power −½ in place of −1 it fits them better still. Such a law is
``ambiguous``: the data prefer a neighbour of its shape, which is named.

The two fits have the same parameters (each sum's coefficients but its leading
one, and the law's factor, refitted by least squares on the training rows:
readout.refit), so the BIC gain of
the neighbour is n·ln(RSS law / RSS neighbour), twice the log of the Bayes
factor. A gain above MIN_GAIN, strong evidence on Kass and Raftery's scale, is
required: where a sum hardly varies over the rows, refitting the coefficients
nearly makes up for any power, and which fit wins is chance (x/(1 + z/20) at
1% noise: gains of 0.1 to 1 either way). The laws of the class measured stay
far apart (their neighbours fit worse by n·ln(RSS ratio) in the hundreds or
thousands); the Padé form above gains 7.0 and 11.4 on two samples.

The work is set by counts, not by the clock, so that the verdict does not
depend on the machine's load: at most MAX_FREED powers, MAX_ROWS rows and
MAX_ITERATIONS evaluations of the residuals per fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from arithnet.laws.law.symbolic import text
from arithnet.laws.readout.refit import fit_shape, parametrized
from arithnet.laws.verification.front import MIN_BIC_GAIN

#: How far a power is moved on the lattice.
STEP = sympy.Rational(1, 2)
#: Powers of sums checked per law at most (the first in the expression): each costs three small least-squares fits.
MAX_FREED = 4
#: The BIC gain (n·ln of the ratio of residual sums of squares) a neighbour needs: strong evidence.
MIN_GAIN = MIN_BIC_GAIN
#: Training rows the fits use at most (the first of a random order); each fit evaluates the residuals at most
#: MAX_ITERATIONS times (readout.refit).
MAX_ROWS = 1000


@dataclass
class FreedPower:
    """A power of a sum whose neighbour on the lattice the data prefer: the sum, its power in the law, the
    neighbour's power, and how much lower the BIC is with it (n·ln of the ratio of residual sums of squares)."""

    base: str
    power: float
    preferred: float
    bic_gain: float

    def row(self) -> dict:
        return {"sum": self.base, "power": self.power, "preferred": self.preferred, "bic_gain": self.bic_gain}

    def note(self) -> str:
        return (
            f"the power {self.power:g} of ({self.base}) fits worse than {self.preferred:g} (BIC higher by "
            f"{self.bic_gain:.1f}): the law may only approximate one of another shape"
        )


def preferred_powers(expression: sympy.Expr, columns: dict[sympy.Symbol, np.ndarray], y: np.ndarray):
    """The powers of sums in ``expression`` whose neighbour on the lattice the rows (``columns``, y) prefer."""
    return [
        FreedPower(text(move.target.base), float(move.target.exp), float(move.power), move.bic_gain)
        for move in power_moves(expression, columns, y)
    ]


@dataclass
class PowerMove:
    """A power of a sum in a law (``target``, a sympy Pow), the power the rows prefer, and the BIC gain."""

    target: sympy.Pow
    power: sympy.Rational
    bic_gain: float


def power_moves(expression: sympy.Expr, columns: dict[sympy.Symbol, np.ndarray], y: np.ndarray,
                min_gain: float = MIN_GAIN) -> list[PowerMove]:  # fmt: skip
    """Each power of a sum in ``expression`` (at most MAX_FREED) whose best neighbour on the lattice fits the rows
    (at most MAX_ROWS) better by more than ``min_gain`` in BIC, with that neighbour's power."""
    named = {symbol.name: values[:MAX_ROWS] for symbol, values in columns.items()}
    y = y[:MAX_ROWS]
    found = []
    for target in _targets(expression):
        costs = {power: _cost(expression, target, power, named, y) for power in _neighbourhood(target.exp)}
        costs = {power: cost for power, cost in costs.items() if cost is not None}
        if target.exp not in costs:
            continue
        own = costs.pop(target.exp)
        best = min(costs, key=costs.get, default=None)
        if best is None or not math.isfinite(own) or not math.isfinite(costs[best]):
            continue  # a fit that failed decides nothing
        gain = len(y) * math.log(own / max(costs[best], 1e-300))
        if gain > min_gain:
            found.append(PowerMove(target, best, gain))
    return found


def neighbour_powers(expression: sympy.Expr) -> list[tuple[sympy.Pow, sympy.Rational]]:
    """Each power of a sum in ``expression`` (at most MAX_FREED) with each of its neighbours on the lattice."""
    return [(target, power) for target in _targets(expression) for power in _neighbourhood(target.exp)[1:]]


def _targets(expression: sympy.Expr) -> list[sympy.Pow]:
    """The distinct powers of sums in ``expression``, first first, at most MAX_FREED."""
    return list(dict.fromkeys(p for p in sympy.preorder_traversal(expression) if _is_power_of_sum(p)))[:MAX_FREED]


def _neighbourhood(power: sympy.Rational) -> list[sympy.Rational]:
    """The power and its neighbours on the lattice, leaving out 0 (the sum gone: another structure)."""
    return [power] + [p for p in (power - STEP, power + STEP) if p != 0]


def _is_power_of_sum(node: sympy.Basic) -> bool:
    return isinstance(node, sympy.Pow) and isinstance(node.base, sympy.Add) and node.exp.is_Rational


def _cost(expression, target, power, columns: dict[str, np.ndarray], y) -> float | None:
    """The residual sum of squares (relative to RMS(y)) with ``target``'s exponent set to ``power`` and every
    coefficient refitted (readout.refit); inf when the fit fails, None when the shape cannot move that power
    (a power inside Abs, sign or a float power)."""
    shape = parametrized(expression, {target: power}, columns)
    if target not in shape.moved:
        return None
    fitted = fit_shape(shape, columns, y)
    return fitted.rss if fitted is not None else math.inf
