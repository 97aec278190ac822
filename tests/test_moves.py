"""The last stage of the law search: a noise-level law read out again with a power of a sum moved (readout.refit,
search.moves)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from arithnet.laws import FitConfig
from arithnet.laws.readout.refit import fit_shape, parametrized, snapped_law
from arithnet.laws.search.budget import Budget
from arithnet.laws.search.moves import STAGE, power_moves_stage
from arithnet.laws.search.search import Search
from arithnet.laws.verification.powers import power_moves

x, u, c, t, a, b = sympy.symbols("x u c t a b")
PADE = 6 * (x - u * t) / (6 - sympy.pi * u**2 / c**2)
LORENTZ = (x - u * t) / sympy.sqrt(1 - u**2 / c**2)


def lorentz_rows(n_rows: int, noise: float, seed: int):
    """(x − u·t)/√(1 − u²/c²) (Feynman I.15.3x, its ranges) with noise of ``noise``·RMS(y): columns and y."""
    rng = np.random.default_rng(seed)
    columns = {name: rng.uniform(low, high, n_rows) for name, (low, high) in
               {"x": (5, 10), "u": (1, 2), "c": (3, 20), "t": (1, 2)}.items()}  # fmt: skip
    y = sympy.lambdify((x, u, c, t), LORENTZ, "numpy")(*columns.values())
    return columns, y + noise * np.sqrt(np.mean(y**2)) * rng.standard_normal(n_rows)


@pytest.mark.parametrize(
    "law",
    [PADE, LORENTZ, -3 * a * (2 * a - b) ** sympy.Rational(3, 2), a / (2 + b) + b / (a - 3), sympy.Abs(a - b) / 5],
    ids=str,
)
def test_a_shape_at_its_starting_values_is_the_law(law):
    """Each sum keeps its leading term at ±1 and its scale goes to the factor in front: the same values."""
    rng = np.random.default_rng(0)
    columns = {name: rng.uniform(3.0, 5.0, 50) for name in "xucabt"}
    columns["c"] = columns["c"] + 5  # u < c under the roots
    shape = parametrized(law)
    expected = sympy.lambdify(sorted(law.free_symbols, key=str), law, "numpy")(
        *(columns[s.name] for s in sorted(law.free_symbols, key=str))
    )
    np.testing.assert_allclose(shape.values(shape.start, columns, 50), expected, rtol=1e-12)
    fitted = fit_shape(shape, columns, expected)
    assert fitted is not None and fitted.rss < 1e-20


def test_a_pade_form_moved_to_the_root_snaps_to_the_law():
    """On 1% noise the −1 of the Padé form moved to −½ (the move the rows prefer), its constants refitted and
    snapped in turn, is the law itself."""
    columns, y = lorentz_rows(750, 0.01, seed=0)
    (move,) = power_moves(PADE, {sympy.Symbol(k): v for k, v in columns.items()}, y)
    assert move.power == sympy.Rational(-1, 2) and move.bic_gain > 6
    law, readings = snapped_law(parametrized(PADE, {move.target: move.power}), columns, y, 24, 4.0)
    assert sympy.simplify(law - LORENTZ) == 0
    assert [reading.snapped for reading in readings] and all(r.snapped is not None for r in readings)


def test_a_constant_the_rows_do_not_fix_is_no_law():
    """A sum's coefficient on a column that is constant over the rows has no finite standard error: no law."""
    columns = {"a": np.linspace(1, 2, 40), "b": np.full(40, 3.0)}
    y = columns["a"] / (1 + columns["b"])
    assert snapped_law(parametrized(a / (1 + b / 2)), columns, y, 24, 4.0) is None


def search_with(law: sympy.Expr, noise: float, seed: int) -> Search:
    """A search over Lorentz rows that has judged ``law`` as its only candidate."""
    columns, y = lorentz_rows(1000, noise, seed)
    rows = np.stack(list(columns.values()), 1)
    train, held = np.arange(250, 1000), np.arange(250)
    search = Search(rows, y, tuple(columns), (train, held), FitConfig(), Budget(60.0))
    search.judged(law, "y = N·S^-1", "trained, 3 monomials")
    return search


def test_the_stage_judges_the_moved_law_as_its_own_candidate():
    search = search_with(PADE, 0.01, seed=0)  # a sample whose rows prefer the root clearly (BIC gain 24)
    assert [c.expression for c in search.noise_consistent()] == [PADE]
    power_moves_stage(search)
    moved = [c for c in search.candidates.values() if c.stage == STAGE]
    assert len(moved) == 1 and sympy.simplify(moved[0].expression - LORENTZ) == 0
    assert moved[0].template.endswith("the power -1 moved to -1/2")
    assert moved[0] in search.noise_consistent()


def test_the_stage_leaves_a_law_of_the_class_alone():
    search = search_with(LORENTZ, 0.01, seed=2)
    power_moves_stage(search)
    assert [c.stage for c in search.candidates.values()] == ["trained, 3 monomials"]


def noise_level_law(text: str, complexity: int, train_error: float):
    from arithnet.laws.verdict import Verdict
    from arithnet.laws.verification.front import Candidate

    expression = sympy.parse_expr(text, local_dict={"omega": sympy.Symbol("omega"), "c": c, "d": sympy.Symbol("d")})
    return Candidate(expression, complexity, train_error, train_error, 0.03, Verdict.NOISE, "", "lattice")


def test_among_noise_level_laws_the_rows_strong_preference_decides():
    """The first terms of a series sit in the noise band beside the law (Feynman II.24.17 at 1% noise, its
    training errors): the rows prefer the law by a BIC gain of 94, which overrides its extra complexity.
    A gain below 6 does not: the simplest stays."""
    from arithnet.laws.verification.front import choose
    from arithnet.laws.verification.front import law_bic as bic

    series = noise_level_law("omega/c - 11*c/(2*d**2*omega)", 15, 1.0522e-2)
    law = noise_level_law("sqrt(omega**2/c**2 - pi**2/d**2)", 18, 9.7542e-3)
    assert bic(series, 750) - bic(law, 750) > 90
    assert choose([series, law], n_rows=750) is law
    assert choose([series, law]) is series  # without the rows' count: the simplest
    close = noise_level_law("sqrt(omega**2/c**2 - pi**2/d**2)", 18, 1.0362e-2)
    assert 0 < bic(series, 750) - bic(close, 750) < 6
    assert choose([series, close], n_rows=750) is series


def test_a_power_the_rows_hardly_decide_makes_the_law_ambiguous():
    """On a sample where the rows prefer the root only weakly, the Padé form's neighbour with −½ is as plausible
    (the same parameters, a fit no worse): it is a competitor, and the law is not verified to the noise."""
    from arithnet.laws.fit import what_the_data_leave_open

    search = search_with(PADE, 0.01, seed=1)
    (chosen,) = search.noise_consistent()
    columns = {symbol: values for symbol, values in zip(search.symbols, search.judge.evidence.x.T)}
    gains = [move.bic_gain for move in power_moves(PADE, columns, search.judge.evidence.y, min_gain=-np.inf)]
    assert 0 < max(gains) < 6  # no strong preference: the powers check alone would let the law pass
    competitors, _, powers = what_the_data_leave_open(search, chosen, search.noise_level())
    assert powers == [] and {c.stage for c in competitors} == {STAGE}
    assert {c.law.rsplit(" ", 1)[1] for c in competitors} == {"-1/2", "-3/2"}  # the rows hardly fix the power


def test_a_sum_negative_on_the_rows_moves_as_its_turned_over_form_does():
    """−b/(2 − a) and b/(a − 2) are one law on rows where a > 2: moved to −½, both become b·(a − 2)^(−½) and fit
    the rows of that law exactly; a power inside a float power is not moved at all."""
    rng = np.random.default_rng(0)
    columns = {"a": rng.uniform(3.0, 6.0, 300), "b": rng.uniform(1.0, 2.0, 300)}
    y = columns["b"] / np.sqrt(columns["a"] - 2)
    for law in (-b / (2 - a), b / (a - 2)):
        (target,) = [n for n in sympy.preorder_traversal(law) if n.is_Pow and n.base.is_Add]
        shape = parametrized(law, {target: sympy.Rational(-1, 2)}, columns)
        assert target in shape.moved and fit_shape(shape, columns, y).rss < 1e-20
    floated = a * (1 + 1 / (a + b)) ** sympy.Float(1.37)  # a sum inside a float power: no lattice to move on
    (target,) = [n for n in sympy.preorder_traversal(floated) if n.is_Pow and n.base.is_Add and n.exp == -1]
    assert parametrized(floated, {target: sympy.Rational(-1, 2)}).moved == frozenset()
