"""The rational library: y^q·Q = P solved in closed form, laws of every kind found exactly, noise refused."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from arithnet.laws import Verdict, fit_law
from arithnet.laws.readout.library import library_size
from arithnet.laws.readout.roots import factored, matching_sign, square_part
from arithnet.laws.readout.rows import Rows
from arithnet.laws.readout.structure import Structure
from arithnet.laws.search import rational
from arithnet.laws.search.budget import OutOfTime
from arithnet.tables import table_from_arrays

ROWS = 300
POSITIVE = (1.0, 5.0)


def sampled(formula: str, names: str, rows: int = ROWS, noise: float = 0.0, seed: int = 0):
    """Rows of ``formula`` (the test's own text) with every variable in U[1, 5], and the formula as sympy."""
    rng = np.random.default_rng(seed)
    symbols = sympy.symbols(names)
    x = rng.uniform(*POSITIVE, (rows, len(symbols)))
    expression = sympy.parse_expr(formula, local_dict={s.name: s for s in symbols})
    y = sympy.lambdify(symbols, expression, "numpy")(*x.T) * np.ones(rows)
    y = y + noise * np.sqrt(np.mean(y**2)) * rng.standard_normal(rows)
    return x, y, [s.name for s in symbols], expression


def same_law(found: sympy.Expr, expected: sympy.Expr) -> bool:
    """sympy proves found = expected with every input positive (factored first: sympy's simplify leaves
    √(expanded polynomial) − (its factors)^(3/2) as it is)."""
    positive = {s: sympy.Symbol(s.name, positive=True) for s in expected.free_symbols | found.free_symbols}
    difference = (found - expected).xreplace(positive)
    return sympy.simplify(difference) == 0 or sympy.simplify(sympy.factor(difference)) == 0


#: A law of each kind the stage is for, and the names of its columns.
KINDS = {
    "sum of ratios": ("x/(y + z) + w/(u + x)", "x y z w u"),
    "nested fraction": ("a/(b + c/(d + e))", "a b c d e"),
    "ratio of products of sums": ("(a + b)*(c + d)/((a + c)*(b + d))", "a b c d"),
    "power of a ratio": ("((m + n)/(m + 2*k))**(3/2)", "m n k"),
    "sum times a power of a sum": ("(a + b)*sqrt(c + d)", "a b c d"),
    "sign-changing root": ("(u - v)*sqrt(u**2 + w**2)", "u v w"),
    "sign-changing root over a sum": ("(u - v)/sqrt(u + w)", "u v w"),
    "six columns": ("(x1*y1 + x2*y2)/(x3 + y3)", "x1 y1 x2 y2 x3 y3"),
}


#: One xdist worker runs the module (``--dist loadgroup``), so the fits below are made once.
pytestmark = pytest.mark.xdist_group("rational fits")


@pytest.fixture(scope="session")
def fits():
    """One fit per kind, shared by the tests that read it (session-scoped: whatever other modules' tests the
    worker runs in between)."""
    found = {}
    for kind, (formula, names) in KINDS.items():
        x, y, columns, expression = sampled(formula, names)
        found[kind] = (fit_law(table_from_arrays(x, y, names=columns, target="f")), expression)
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_law_of_each_kind_is_found_exactly_by_the_rational_library(fits, kind):
    fit, expression = fits[kind]
    assert fit.verification == Verdict.EXACT
    assert fit.chosen.stage == "rational library" and fit.summary()["stage"] == "rational library"
    assert same_law(fit.law.expression, expression), fit.law
    assert not any(isinstance(a, sympy.Float) for a in sympy.preorder_traversal(fit.law.expression))


def test_a_sign_changing_root_keeps_its_sign_outside_the_data(fits):
    """y² = (u − v)²·(u² + w²) is read out as (u − v)·√(u² + w²): negative where v > u, there and far outside."""
    fit, expression = fits["sign-changing root"]
    assert "plain" in fit.chosen.template and "plain" in fits["sign-changing root over a sum"][0].chosen.template
    x = np.array([[1.0, 4.0, 2.0], [40.0, 3.0, 0.5], [-7.0, 20.0, 9.0]])
    truth = sympy.lambdify(sympy.symbols("u v w"), expression, "numpy")(*x.T)
    assert np.allclose(fit.law.predict(x), truth, rtol=1e-12)
    assert (truth < 0).sum() == 2


def rows_of(formula: str, names: str, noise: float = 0.0, seed: int = 0) -> Rows:
    x, y, _, _ = sampled(formula, names, noise=noise, seed=seed)
    return Rows.scaled(x, y, np.arange(225), np.arange(225, ROWS))


@pytest.mark.parametrize("kind", ["sum of ratios", "sign-changing root"])
def test_one_percent_noise_makes_the_stage_find_nothing_rather_than_a_wrong_law(kind):
    formula, names = KINDS[kind]
    for seed in (0, 1):
        assert rational.rational_library(rows_of(formula, names, noise=0.01, seed=seed), lambda: None) is None


def test_the_first_configuration_with_a_law_is_the_simplest_that_holds_it():
    first = rational.first_law(*_scaled("x/(y + z) + w/(u + x)", "x y z w u"), lambda: None)
    configuration, _, roles = first
    assert (configuration.power, configuration.plain) == (1, False)
    assert (configuration.degree_p, configuration.degree_q) == (2, 2)
    assert (roles > 0).sum() == 4 and (roles < 0).sum() == 3  # x·u + x² + w·y + w·z over (y + z)(u + x) less its 1


def _scaled(formula: str, names: str):
    rows = rows_of(formula, names)
    return rows.x, rows.y


def test_configurations_run_simplest_first_signed_before_plain():
    order = rational.configurations()
    totals = [c.degree_p + c.degree_q for c in order]
    assert totals == sorted(totals) and max(totals) == rational.MAX_TOTAL_DEGREE
    first = [(c.power, c.plain, c.degree_p, c.degree_q) for c in order[:6]]
    assert first == [(1, False, 1, 0), (2, False, 1, 0), (2, True, 1, 0), (1, False, 0, 1), (2, False, 0, 1),
                     (2, True, 0, 1)]  # fmt: skip
    assert len(set(order)) == len(order)


def test_no_configuration_over_the_column_cap_is_solved(monkeypatch):
    """Nine columns and 225 rows: at most 112 columns (half the rows); every design solved stays within."""
    widths = []
    solve = rational.null_vector

    def recorded(phi_p, phi_q, t):
        widths.append(phi_p.shape[1] + phi_q.shape[1])
        return solve(phi_p, phi_q, t)

    monkeypatch.setattr(rational, "null_vector", recorded)
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 5, (225, 9))
    assert rational.first_law(x, np.exp(x[:, 0]) * x[:, 1], lambda: None) is None  # outside the class
    assert widths and max(widths) <= 112
    assert {library_size(9, 2) + library_size(9, 1), 2 * library_size(9, 2)} <= set(widths)  # P2/Q1, P2/Q2


def test_the_budget_is_checked_between_configurations():
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 3:
            raise OutOfTime("rational library")

    rng = np.random.default_rng(0)
    x = rng.uniform(1, 5, (225, 3))
    with pytest.raises(OutOfTime):
        rational.first_law(x, np.exp(x[:, 0]), check)
    assert len(calls) == 3


def test_a_relation_among_the_columns_is_no_law():
    """A column twice another gives null vectors of P alone (P = x₂ − 2x₁ = 0): no law, and nothing is read."""
    rng = np.random.default_rng(0)
    a, c = rng.uniform(1, 5, (2, 225))
    x = np.stack([a, 2 * a, c], 1)
    assert rational.first_law(x, np.exp(c), lambda: None) is None


def test_square_part_takes_out_every_squared_factor():
    u, v, w, c = sympy.symbols("u v w c")
    ratio = sympy.expand((u - v) ** 2 * (u**2 + w**2) * 9) / sympy.expand(4 * c**2 * (c - u) ** 3)
    root, rest = square_part(ratio)
    assert sympy.simplify(root**2 * rest - ratio) == 0
    assert sympy.factor(root**2) == sympy.factor((u - v) ** 2 / (c**2 * (c - u) ** 2))
    assert square_part(1.5 * u**2) == (1, 1.5 * u**2)  # a constant that did not snap: not factored
    assert square_part(9 * u**2) == (u, 9) and square_part(1 / (4 * u**2)) == (1 / u, sympy.Rational(1, 4))
    awkward = sympy.sqrt(sympy.pi) * (u**2 - v**2)  # sympy's factor_list fails on it: left whole
    assert square_part(awkward / w**2) == (1 / w, awkward)


def test_matching_sign_follows_the_data_and_factored_takes_out_roots():
    assert matching_sign(np.array([1.0, -2.0, 3.0]), np.array([2.0, -1.0, 0.5])) == 1
    assert matching_sign(np.array([1.0, -2.0, 3.0]), np.array([-2.0, 1.0, -0.5])) == -1
    u, v, w = sympy.symbols("u v w")
    rewrites = factored(sympy.sqrt(sympy.expand((u - v) ** 2 * (u**2 + w**2))))
    assert (u - v) * sympy.sqrt(u**2 + w**2) in rewrites and (v - u) * sympy.sqrt(u**2 + w**2) in rewrites


def test_a_plain_square_is_another_structure_than_the_signed_one():
    signed = Structure(np.eye(2), np.array([1.0, -1.0]), np.ones(2), np.zeros(2), 2, "y^2")
    plain = Structure(np.eye(2), np.array([1.0, -1.0]), np.ones(2), np.zeros(2), 2, "y^2", plain=True)
    assert signed.key() != plain.key() and plain.key()[:2] == signed.key()
