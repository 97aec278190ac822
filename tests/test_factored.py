"""The factored class: FactorNet solves its numerators, the composite readout fits, simplifies and writes a law."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from arithnet.laws import FitConfig, Verdict, fit_law
from arithnet.laws.readout.composite import (
    Composite,
    Factor,
    Term,
    bic,
    expression,
    fit,
    library_values,
    parameters,
    predict,
    removals,
    simplified,
)
from arithnet.laws.readout.library import monomial_library
from arithnet.laws.readout.rows import Rows
from arithnet.tables import table_from_arrays

torch = pytest.importorskip("torch")


def rows(n: int = 400, n_inputs: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(1, 5, (n, n_inputs))


def test_factornet_solves_its_numerators_in_closed_form():
    """With the sum c + d to the power −1, the numerator of (a + b)/(c + d) is solved: a and b, nothing else."""
    from arithnet.laws.model.factor_net import FactorNet

    library = monomial_library(4, 1)  # 1, a, b, c, d
    unit = FactorNet(4, 1, 1, library=torch.from_numpy(library), n_terms=1, n_factors=1).double()
    with torch.no_grad():
        unit.weight.copy_(torch.tensor([[[[0.0, 0.0, 0.0, 1.0, 1.0]]]], dtype=torch.float64))
        unit.power.fill_(-1.0)
    x = torch.from_numpy(rows())
    target = ((x[:, 0] + x[:, 1]) / (x[:, 2] + x[:, 3]))[None]
    np.testing.assert_allclose(unit.projected(x, target)[0, :, 0].detach(), target[0], rtol=1e-10)
    # The sum is scaled to unit RMS, so the numerator carries its scale: a and b with the same coefficient.
    coefficient = unit.coefficient[0].numpy()
    assert np.allclose(coefficient[[0, 3, 4]], 0.0, atol=1e-8) and coefficient[1] == pytest.approx(coefficient[2])


def ratio_of_sums(library: np.ndarray) -> Composite:
    """(a + 2b)·(c + d)^(−1/2) over a degree-1 library of four columns, near but not at its constants."""
    numerator = Term(
        np.array([1, 2]), np.array([1.1, 1.8]), [Factor(Fraction(-1, 2), np.array([3, 4]), np.array([1.0, 0.9]))]
    )
    return Composite([numerator], library, "y = N·S^-1/2")


def test_the_composite_fit_is_scipys_least_squares():
    """Gauss–Newton with the exact Jacobian lands where scipy's least_squares does, on 1%-noisy rows."""
    optimize = pytest.importorskip("scipy.optimize")
    library = monomial_library(4, 1)
    x = rows()
    rng = np.random.default_rng(1)
    y = (x[:, 0] + 2 * x[:, 1]) / np.sqrt(x[:, 2] + x[:, 3]) * (1 + 0.01 * rng.standard_normal(len(x)))
    phi = library_values(x, library)
    start = ratio_of_sums(library)
    fitted = fit(start, phi, y)

    def residual(theta):
        from arithnet.laws.readout.composite import with_parameters

        return predict(with_parameters(start, theta), phi) - y

    reference = optimize.least_squares(residual, parameters(start), xtol=1e-14, ftol=1e-14, gtol=1e-14)
    np.testing.assert_allclose(parameters(fitted), reference.x, rtol=1e-6)
    assert np.all(fitted.terms[0].errors > 0) and fitted.terms[0].factors[0].errors[0] == 0  # the lead is fixed


def test_simplifying_drops_a_spurious_monomial_and_keeps_the_law():
    library = monomial_library(4, 1)
    x = rows()
    y = (x[:, 0] + 2 * x[:, 1]) / np.sqrt(x[:, 2] + x[:, 3])
    phi = library_values(x, library)
    wide = Term(np.array([0, 1, 2, 3]), np.array([0.1, 1.0, 2.0, 0.05]), ratio_of_sums(library).terms[0].factors)
    found = simplified(Composite([wide], library, "y = N·S^-1/2"), phi, y)
    assert found.terms[0].indices.tolist() == [1, 2] and found.terms[0].factors[0].indices.tolist() == [3, 4]
    np.testing.assert_allclose(found.terms[0].coefficients / found.terms[0].coefficients[0], [1.0, 2.0], rtol=1e-9)


def exhaustive(composite: Composite, phi: np.ndarray, y: np.ndarray) -> Composite:
    """The reference the Wald order stands in for: every removal refitted at every step, the lowest BIC taken."""
    current = composite
    while True:
        trials = [fit(candidate, phi, y) for candidate, _ in removals(current)]
        if not trials or min(bic(t, phi, y) for t in trials) >= bic(current, phi, y):
            return current
        current = min(trials, key=lambda t: bic(t, phi, y))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_removals_in_wald_order_end_where_every_removal_tried_ends(seed):
    """From every library monomial in the numerator and the sum, on 1%-noisy rows of (a + 2b)/√(c + d), the
    Wald-ordered removals (one refit per step) end at the structure that refitting every removal ends at."""
    library = monomial_library(4, 1)
    x = rows(seed=seed)
    y = (x[:, 0] + 2 * x[:, 1]) / np.sqrt(x[:, 2] + x[:, 3])
    y = y * (1 + 0.01 * np.random.default_rng(seed + 10).standard_normal(len(y)))
    phi = library_values(x, library)
    numerator = np.array([1.0, 1.0, 2.0, 0.01, 0.01])
    root = Factor(Fraction(-1, 2), np.array([3, 0, 1, 2, 4]), np.array([1.0, 0.01, 0.01, 0.01, 0.9]))
    wide = Composite([Term(np.arange(5), numerator, [root])], library, "y = N·S^-1/2")
    reference = exhaustive(fit(wide, phi, y), phi, y)
    found = simplified(wide, phi, y)
    assert found.key() == reference.key() == ratio_of_sums(library).key()


def test_the_composite_is_written_in_the_tables_units_with_its_constants():
    """On columns of very different scales, (a + 2b)/√(c + d) reads back with its 2, in the table's own units."""
    library = monomial_library(4, 1)
    x = rows() * np.array([1e-6, 1e-6, 1e3, 1e3])
    y = (x[:, 0] + 2 * x[:, 1]) / np.sqrt(x[:, 2] + x[:, 3])
    scaled = Rows.scaled(x, y, np.arange(len(y)), np.arange(len(y)))
    phi = library_values(scaled.x, library)
    found = simplified(ratio_of_sums(library), phi, scaled.y)
    symbols = sympy.symbols("a b c d")
    law, readings = expression(found, scaled, list(symbols), (24, 4.0, 6))
    a, b, c, d = positive = sympy.symbols("a b c d", positive=True)  # the columns are positive
    assert sympy.simplify(law.xreplace(dict(zip(symbols, positive))) - (a + 2 * b) / sympy.sqrt(c + d)) == 0, law
    assert {str(r.snapped) for r in readings} >= {"1", "2"}


@pytest.mark.parametrize(
    ("formula", "n_inputs", "stage"),
    [
        (lambda v: (v[:, 0] + v[:, 1]) * np.sqrt(v[:, 2] + v[:, 3]), 4, "factored, one sum"),
        # Found as two sums, (2a + b + c)/((a + b)(a + c)), or as two terms, which write it shorter. Three
        # columns: a fourth that the law does not use doubles the stages' libraries and the test's time.
        (lambda v: 1 / (v[:, 0] + v[:, 1]) + 1 / (v[:, 0] + v[:, 2]), 3, "factored, two"),
    ],
    ids=["a sum times the root of a sum", "a sum of two ratios"],
)
def test_a_factored_stage_finds_the_law_through_one_percent_noise(formula, n_inputs, stage):
    """With 1% noise no closed-form stage is exact: the factored stages find the structure, constants exact."""
    x = rows(1000, n_inputs, seed=2)
    clean = formula(x)
    noisy = clean + 0.01 * np.sqrt(np.mean(clean**2)) * np.random.default_rng(3).standard_normal(len(x))
    names = ["a", "b", "c", "d"][:n_inputs]
    found = fit_law(table_from_arrays(x, noisy, names=names), FitConfig(time_budget=300))
    assert found.chosen.stage.startswith(stage) and found.verification in (Verdict.NOISE, Verdict.AMBIGUOUS)
    np.testing.assert_allclose(found.law.predict(x * 7), formula(x * 7), rtol=1e-12)
