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
from arithnet.laws.readout.refit import Fitted, Shape, fit_shape, parametrized
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
    return neighbours(expression, columns, y).preferred()


@dataclass
class PowerMove:
    """A power of a sum in a law (``target``, a sympy Pow), a power it is moved to, the law so moved (``shape``)
    and its fit, and the BIC gain of the move (n·ln of the ratio of residual sums of squares)."""

    target: sympy.Pow
    power: sympy.Rational
    bic_gain: float
    shape: Shape
    fitted: Fitted


@dataclass
class Neighbourhood:
    """A law (``expression``) refitted on its own tree (``own``, None when that fit failed) and each of its
    powers of sums moved by ½ and refitted (``moves``), on the same rows: fitted once, read by the verdict, the
    rivals and the stage."""

    expression: sympy.Expr
    own: Fitted | None
    moves: list[PowerMove]

    def best(self, min_gain: float = MIN_GAIN) -> list[PowerMove]:
        """Per power of a sum, its best move when that gains more than ``min_gain`` in BIC."""
        found: dict[sympy.Pow, PowerMove] = {}
        for move in self.moves:
            if move.bic_gain > min_gain and (move.target not in found or move.bic_gain > found[move.target].bic_gain):
                found[move.target] = move
        return list(found.values())

    def preferred(self) -> list[FreedPower]:
        """The moves the rows prefer by strong evidence (MIN_GAIN), as the verdict names them."""
        return [FreedPower(text(m.target.base), float(m.target.exp), float(m.power), m.bic_gain) for m in self.best()]


def neighbours(expression: sympy.Expr, columns: dict[sympy.Symbol, np.ndarray], y: np.ndarray) -> Neighbourhood:
    """The law and each power of a sum in it (at most MAX_FREED) moved to each neighbour on the lattice, every
    coefficient refitted (readout.refit) on at most MAX_ROWS rows. A move whose fit fails, or that the shape
    cannot make (a power inside Abs, sign or a float power), is left out: it decides nothing."""
    named = {symbol.name: values[:MAX_ROWS] for symbol, values in columns.items()}
    y = y[:MAX_ROWS]
    own = fit_shape(parametrized(expression, columns=named), named, y)
    if own is None or not math.isfinite(own.rss) or own.rss <= 0:
        return Neighbourhood(expression, None, [])
    moves = []
    for target in _targets(expression):
        for power in _neighbourhood(target.exp):
            shape = parametrized(expression, {target: power}, named)
            fitted = fit_shape(shape, named, y) if target in shape.moved else None
            if fitted is not None and math.isfinite(fitted.rss):
                gain = len(y) * math.log(own.rss / max(fitted.rss, 1e-300))
                moves.append(PowerMove(target, power, gain, shape, fitted))
    return Neighbourhood(expression, own, moves)


def power_moves(expression: sympy.Expr, columns: dict[sympy.Symbol, np.ndarray], y: np.ndarray,
                min_gain: float = MIN_GAIN) -> list[PowerMove]:  # fmt: skip
    """Each power of a sum in ``expression`` whose best neighbour on the lattice fits the rows better by more than
    ``min_gain`` in BIC, with that neighbour's power."""
    return neighbours(expression, columns, y).best(min_gain)


def _targets(expression: sympy.Expr) -> list[sympy.Pow]:
    """The distinct powers of sums in ``expression``, first first, at most MAX_FREED."""
    return list(dict.fromkeys(p for p in sympy.preorder_traversal(expression) if _is_power_of_sum(p)))[:MAX_FREED]


def _neighbourhood(power: sympy.Rational) -> list[sympy.Rational]:
    """The neighbours of a power on the lattice, leaving out 0 (the sum gone: another structure)."""
    return [p for p in (power - STEP, power + STEP) if p != 0]


def _is_power_of_sum(node: sympy.Basic) -> bool:
    return isinstance(node, sympy.Pow) and isinstance(node.base, sympy.Add) and node.exp.is_Rational
