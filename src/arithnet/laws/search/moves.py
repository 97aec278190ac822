"""The last stage, "a power moved": a noise-level law read out again with a power of a sum the rows prefer moved.

verification.powers finds, for a law that fits to the noise level, each power
of a sum whose neighbour on the lattice (the power moved by ½, every constant
refitted) the rows prefer with strong evidence, a BIC gain above 6. A law that
such a move improves only approximates one of another shape: at 1% noise
LawNet finds 6(x − ut)/(6 − π·u²/c²), a Padé form of (x − ut)/√(1 − u²/c²),
and with its −1 moved to −½ it is that law. This stage follows the evidence:
the law of each such move, its constants refitted and snapped in turn
(readout.refit), is judged as a candidate of its own. A moved law may prefer a
further move: at most MAX_ROUNDS rounds are made, each over the MAX_LAWS
simplest noise-level laws not moved yet. The moves come from the verdict's own
check, so what the stage leaves unmoved is what the verdict calls ambiguous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import sympy

from arithnet.laws.law.symbolic import text
from arithnet.laws.readout.algebra import relative_rms
from arithnet.laws.readout.refit import fit_shape, parametrized, snapped_law
from arithnet.laws.verification.ambiguity import Rival
from arithnet.laws.verification.noise import looks_like_noise
from arithnet.laws.verification.powers import MAX_ROWS, neighbour_powers, power_moves

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
    for _ in range(MAX_ROUNDS):
        laws = sorted(search.noise_consistent(), key=lambda c: (c.complexity, c.error))
        laws = [c for c in laws if sympy.srepr(c.expression) not in moved][:MAX_LAWS]
        for candidate in laws:
            moved.add(sympy.srepr(candidate.expression))
            for move in power_moves(candidate.expression, columns, evidence.y, min_gain=0.0):
                search.budget.check(STAGE)
                read = snapped_law(parametrized(candidate.expression, {move.target: move.power}), named, evidence.y,
                                   *settings)  # fmt: skip
                if read is not None:
                    template = f"{text(candidate.expression)}, the power {move.target.exp} moved to {move.power}"
                    search.judged(read[0], template, STAGE, ("moved", template), read[1])
        if not laws:
            return


def power_rivals(search: Search, chosen: Rival, expression: sympy.Expr, limit: float) -> list[Rival]:
    """The law's neighbours that fit to the noise (held-out error within ``limit``, residuals like noise): each
    power of a sum moved by ½, every constant refitted, unsnapped. As many parameters as the law (``chosen``'s),
    so a neighbour the rows prefer at all, by however little, is as plausible: the data do not decide the power."""
    evidence = search.judge.evidence
    training = {name: values[:MAX_ROWS] for name, values in zip(search.names, evidence.x.T)}
    held = dict(zip(search.names, evidence.x_held.T))
    found = []
    for target, power in neighbour_powers(expression):
        shape = parametrized(expression, {target: power})
        fitted = fit_shape(shape, training, evidence.y[:MAX_ROWS])
        if fitted is None:
            continue
        predicted = shape.values(fitted.values, held, len(evidence.y_held))
        error = float(relative_rms(predicted[None], evidence.y_held)[0])
        train = shape.values(fitted.values, dict(zip(search.names, evidence.x.T)), len(evidence.y))
        residual = np.concatenate([train - evidence.y, predicted - evidence.y_held])[: len(search.judge.test_x)]
        if error <= limit and looks_like_noise(search.judge.test_x, residual):
            label = f"{text(expression)} with the power {target.exp} moved to {power}"

            def predict(x, shape=shape, theta=fitted.values):
                return shape.values(theta, dict(zip(search.names, x.T)), len(x))

            train_rms = float(relative_rms(train[None], evidence.y)[0])
            found.append(Rival(label, STAGE, error, predict, ("moved", label), train_rms, chosen.n_parameters))
    return found
