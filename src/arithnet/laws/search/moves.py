"""The last stage, "a power moved": a noise-level law read out again with a power of a sum the rows prefer moved.

A noise-level law may only approximate one of another shape: at 1% noise
LawNet finds 6(x − ut)/(6 − π·u²/c²), a Padé form of (x − ut)/√(1 − u²/c²),
and with its −1 moved to −½ it is that law. For the MAX_LAWS simplest
noise-level laws, this stage moves each power of a sum by ½
(verification.powers, every constant refitted on at most MAX_ROWS rows), and
the law of every move the rows prefer at all (a BIC gain above 0) is read out
again on the training rows, its constants snapped in turn (readout.refit), and
judged as a candidate of its own. The choice then weighs it like any other
(simplest at the noise level, unless the rows strongly prefer another). A
moved law may prefer a further move: at most MAX_ROUNDS rounds are made.

The same moves are the chosen law's rivals (``power_rivals``): a neighbour that
fits the rows about as well and leads elsewhere outside leaves the power
undecided, and the verdict ``ambiguous``. The verdict's own powers check
(verification.powers) asks more, a gain above 6, to name a preferred power.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import sympy

from arithnet.laws.law.symbolic import text
from arithnet.laws.readout.algebra import relative_rms
from arithnet.laws.readout.refit import snapped_law
from arithnet.laws.verification.ambiguity import Rival
from arithnet.laws.verification.noise import looks_like_noise
from arithnet.laws.verification.powers import Neighbourhood, power_moves

if TYPE_CHECKING:
    from arithnet.laws.search.search import Search

STAGE = "a power moved"
#: Noise-level laws moved per round (the simplest first), and rounds.
MAX_LAWS = 3
MAX_ROUNDS = 2


def power_moves_stage(search: Search) -> None:
    """Judge the law of every move the rows prefer, for the simplest noise-level laws, in rounds."""
    evidence = search.judge.evidence
    columns = dict(zip(search.symbols, evidence.x.T))
    named = {symbol.name: values for symbol, values in columns.items()}
    settings = (search.config.max_denominator, search.config.snap_sigmas[0])
    moved: set[str] = set()
    for _ in range(MAX_ROUNDS):  # each round: the moves the rows prefer at all (a BIC gain above 0)
        laws = sorted(search.noise_consistent(), key=lambda c: (c.complexity, c.error))
        laws = [c for c in laws if sympy.srepr(c.expression) not in moved][:MAX_LAWS]
        for candidate in laws:
            moved.add(sympy.srepr(candidate.expression))
            for move in power_moves(candidate.expression, columns, evidence.y, min_gain=0.0):
                search.budget.check(STAGE)
                read = snapped_law(move.shape, named, evidence.y, *settings)
                if read is not None:
                    template = f"{text(candidate.expression)}, the power {move.target.exp} moved to {move.power}"
                    search.judged(read[0], template, STAGE, ("moved", template), read[1])
        if not laws:
            return


def power_rivals(search: Search, chosen: Rival, near: Neighbourhood, limit: float) -> list[Rival]:
    """The law's neighbours (``near``: verification.powers) that fit to the noise (held-out error within ``limit``,
    residuals like noise): each power of a sum moved by ½, every constant refitted, unsnapped. A neighbour has
    the law's parameters, and is weighed against the law refitted the same way (not against its snapped
    constants, which a free refit beats by chance): its training error is the law's times
    √(RSS neighbour / RSS law refitted)."""
    evidence = search.judge.evidence
    found = []
    for move in near.moves:
        predict = _predictor(move.shape, move.fitted.values, search.names)
        held = predict(evidence.x_held)
        error = float(relative_rms(held[None], evidence.y_held)[0])
        residual = np.concatenate([predict(evidence.x) - evidence.y, held - evidence.y_held])
        if error <= limit and looks_like_noise(search.judge.test_x, residual[: len(search.judge.test_x)]):
            label = f"{text(near.expression)} with the power {move.target.exp} moved to {move.power}"
            train_rms = chosen.train_rms * math.sqrt(move.fitted.rss / near.own.rss)
            found.append(Rival(label, STAGE, error, predict, ("moved", label), train_rms, chosen.n_parameters))
    return found


def _predictor(shape, theta, names):
    return lambda x: shape.values(theta, dict(zip(names, x.T)), len(x))
