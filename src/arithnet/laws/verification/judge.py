"""A candidate judged on the table's rows, in the table's units: held-out errors, exactness, leftover structure.

Every candidate is evaluated from its tree (``law.evaluate``), the same code
that ``predict`` runs, so that what is verified is what is saved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arithnet.laws.config import FitConfig
from arithnet.laws.law.evaluate import evaluate
from arithnet.laws.law.symbolic import from_sympy
from arithnet.laws.readout.algebra import relative_rms, worst_relative
from arithnet.laws.readout.expression import size
from arithnet.laws.readout.shortlist import degrees_of_freedom
from arithnet.laws.verdict import Verdict
from arithnet.laws.verification.front import Candidate, n_numbers
from arithnet.laws.verification.noise import looks_like_noise

#: Rows the tests for leftover structure see at most (a deterministic subset): a cubic's F-test and the
#: nearest-neighbour ratio on 100,000 rows would cost more than the search.
NOISE_TEST_ROWS = 4000


@dataclass
class Evidence:
    """The rows verification reads, in the table's units: training rows (a subset for large tables) and held-out."""

    names: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    x_held: np.ndarray
    y_held: np.ndarray

    def values(self, tree, x: np.ndarray) -> np.ndarray:
        return evaluate(tree, dict(zip(self.names, x.T)), len(x))


class Judge:
    """Turns an expression into a judged Candidate."""

    def __init__(self, evidence: Evidence, config: FitConfig) -> None:
        self.evidence, self.config = evidence, config
        n_test = min(NOISE_TEST_ROWS, len(evidence.y) + len(evidence.y_held))
        self.test_x = np.concatenate([evidence.x, evidence.x_held])[:n_test]

    def __call__(self, expression, template: str, stage: str, structure=(), readings=(), origin=None) -> Candidate:
        """The candidate with its errors; Verdict.EXACT when every held-out row matches to rounding."""
        evidence = self.evidence
        try:
            tree = from_sympy(expression)
        except ValueError:
            tree = None
        if tree is None:
            prediction, fitted = np.full(len(evidence.y_held), np.nan), np.full(len(evidence.y), np.nan)
        else:
            prediction, fitted = evidence.values(tree, evidence.x_held), evidence.values(tree, evidence.x)
        error = float(relative_rms(prediction[None], evidence.y_held)[0])
        k = n_numbers(expression)
        train_error = float(degrees_of_freedom(relative_rms(fitted[None], evidence.y), k, len(fitted))[0])
        worst = float(worst_relative(prediction[None], evidence.y_held)[0])
        verified = Verdict.EXACT if worst < self.config.exact_tolerance else Verdict.NOT_VERIFIED
        # Every row for the test of leftover structure: a thousand rows see a misfit of 1e-4 that 250 miss.
        residual = np.concatenate([fitted - evidence.y, prediction - evidence.y_held])[: len(self.test_x)]
        unstructured = looks_like_noise(self.test_x, residual)
        return Candidate(
            expression, size(expression), error, train_error, worst, verified, template, stage, unstructured,
            structure, list(readings), origin,
        )  # fmt: skip
