"""Rivals of a noise-level law (verification.ambiguity): which ones the data cannot tell from it."""

from __future__ import annotations

import math

import numpy as np

from arithnet.laws.verification.ambiguity import Rival, competitors

N_ROWS = 750
X = np.random.default_rng(0).uniform(1.0, 5.0, (200, 3))


def law(x: np.ndarray) -> np.ndarray:
    return x[:, 1] / (x[:, 0] * x[:, 1] + 1.0)


def elsewhere(x: np.ndarray) -> np.ndarray:
    return law(x) * (1.0 + 0.05 * np.log(x[:, 2]))  # the same inside, apart by far more than the noise outside


def rival(name: str, train_rms: float, n_parameters: int, predict=elsewhere) -> Rival:
    return Rival(name, "unsnapped fit", 0.0104, predict, (name,), train_rms, n_parameters)


def test_a_rival_that_fits_better_than_its_extra_constants_buy_by_chance_competes():
    """The made-up panel's D.N3 at 1% noise, in numbers: the chosen law (9 numbers) and a fit with three more
    constants that fits the same 750 rows better by χ² 12. BIC (ln 750 a parameter) puts the fit 7.9 behind,
    beyond ln n; AIC puts it ahead, so the law is not verified to the noise."""
    chosen = rival("chosen", 9.9145e-3, 9, law)
    better = rival("better", 9.8359e-3, 12)
    assert better.bic(N_ROWS) - chosen.bic(N_ROWS) > math.log(N_ROWS)
    assert better.aic(N_ROWS) < chosen.aic(N_ROWS)
    assert [c.law for c in competitors(chosen, [better], X, 0.01, N_ROWS)] == ["better"]


def test_a_rival_with_more_constants_that_fits_only_as_chance_allows_does_not():
    chosen = rival("chosen", 9.9145e-3, 9, law)
    lucky = rival("lucky", 9.8900e-3, 12)  # χ² about 3.7 better with 3 more constants: what chance gives
    assert lucky.aic(N_ROWS) > chosen.aic(N_ROWS)
    assert competitors(chosen, [lucky], X, 0.01, N_ROWS) == []
