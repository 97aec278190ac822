"""arithnet.laws: exact laws from noise-free tables, the noise level from noisy ones, and every refusal."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given
from hypothesis import strategies as st

from arithnet.laws import FitConfig, fit_law, load_law
from arithnet.laws.constants import snap_constant
from arithnet.laws.expression import Structure, constant
from arithnet.laws.noise import structure_p_value
from arithnet.laws.readout import refine, solve
from arithnet.laws.snapping import snapped_in_turn
from arithnet.laws.structures import Rows
from arithnet.tables import table_from_arrays
from arithnet.units import LawNet
from arithnet.units.law_net import monomials, ratio, signed_power

ROWS = 1000


def table(formula: str, ranges: dict[str, tuple[float, float]], noise: float = 0.0, seed: int = 0):
    """Rows of ``formula`` with each variable uniform in its range; noise as SRBench adds it (× RMS(y))."""
    rng = np.random.default_rng(seed)
    names = list(ranges)
    x = np.stack([rng.uniform(*ranges[n], ROWS) for n in names], 1)
    expression = sympy.sympify(formula, locals={n: sympy.Symbol(n) for n in names})
    y = sympy.lambdify([sympy.Symbol(n) for n in names], expression, "numpy")(*x.T) * np.ones(ROWS)
    y = y + noise * np.sqrt(np.mean(y**2)) * rng.standard_normal(ROWS)
    return table_from_arrays(x, y, names=names), expression


def same_law(found: sympy.Expr, expected: sympy.Expr, ranges) -> bool:
    """sympy proves found = expected, with the inputs declared positive where their range is."""
    positive = {sympy.Symbol(n): sympy.Symbol(n, positive=True) for n, (low, _) in ranges.items() if low > 0}
    return sympy.simplify((found - expected).xreplace(positive)) == 0


def outside_error(fit, expression, ranges, factor=(3.0, 10.0), seed=1) -> float:
    """Largest relative error of the found law on rows 3 to 10 times outside the training range."""
    rng = np.random.default_rng(seed)
    names = list(ranges)
    x = np.stack([rng.uniform(*ranges[n], 500) * rng.uniform(*factor, 500) for n in names], 1)
    truth = sympy.lambdify([sympy.Symbol(n) for n in names], expression, "numpy")(*x.T) * np.ones(500)
    keep = np.isfinite(truth)
    return float(np.max(np.abs(fit.law.predict(x)[keep] - truth[keep]) / np.abs(truth[keep])))


POSITIVE = (1.0, 5.0)
EXACT_LAWS = [
    ("a/b", {"a": (-5.0, 5.0), "b": (-5.0, -1.0)}),
    ("a*b*c", {"a": POSITIVE, "b": POSITIVE, "c": POSITIVE}),
    ("a**2/b", {"a": POSITIVE, "b": POSITIVE}),
    ("sqrt(a)*b", {"a": POSITIVE, "b": POSITIVE}),
    ("3*a/b**2", {"a": POSITIVE, "b": POSITIVE}),
    ("a + b", {"a": POSITIVE, "b": POSITIVE}),
    ("a - b", {"a": POSITIVE, "b": POSITIVE}),
    ("x1*y1 + x2*y2", {"x1": (-3.0, 3.0), "y1": POSITIVE, "x2": POSITIVE, "y2": (-4.0, -1.0)}),
    ("(a + b)/(c + d)", {"a": POSITIVE, "b": POSITIVE, "c": POSITIVE, "d": POSITIVE}),
    ("a*b/(a + b)", {"a": POSITIVE, "b": POSITIVE}),
    ("m/sqrt(1 - v**2/c**2)", {"m": POSITIVE, "v": (1.0, 2.0), "c": (3.0, 10.0)}),
    ("q1*q2/(4*pi*eps*r**2)", {"q1": POSITIVE, "q2": POSITIVE, "eps": POSITIVE, "r": POSITIVE}),
]


@pytest.mark.parametrize(("formula", "ranges"), EXACT_LAWS, ids=[f for f, _ in EXACT_LAWS])
def test_exact_law_from_noise_free_rows(formula, ranges):
    data, expression = table(formula, ranges)
    fit = fit_law(data)
    assert fit.verification == "exact"
    assert same_law(fit.law.expression, expression, ranges), fit.law
    assert outside_error(fit, expression, ranges) < 1e-12
    assert not any(isinstance(a, sympy.Float) for a in sympy.preorder_traversal(fit.law.expression))


def test_power_law_constants_are_recognised_not_floats():
    data, _ = table("q1*q2/(4*pi*eps*r**2)", {"q1": POSITIVE, "q2": POSITIVE, "eps": POSITIVE, "r": POSITIVE})
    fit = fit_law(data)
    assert sympy.pi in fit.law.expression.atoms(sympy.NumberSymbol)
    assert fit.seconds < 5


@pytest.mark.parametrize(
    ("formula", "ranges"),
    [
        ("a*b/(a + b)", {"a": POSITIVE, "b": POSITIVE}),
        ("x1*y1 + x2*y2", dict.fromkeys(("x1", "y1", "x2", "y2"), POSITIVE)),
    ],
)
def test_one_percent_noise_keeps_the_structure_and_says_noise(formula, ranges):
    data, expression = table(formula, ranges, noise=0.01)
    fit = fit_law(data)
    assert fit.verification == "noise"
    assert fit.noise_level == pytest.approx(0.01, rel=0.3)
    # The structure: with its constants rounded to 1 decimal place the law is the truth.
    rounded = fit.law.expression.xreplace(
        {n: sympy.Rational(round(float(n), 1)) for n in fit.law.expression.atoms(sympy.Number)}
    )
    assert sympy.simplify(rounded - expression) == 0, fit.law


def test_a_sum_with_a_zero_column_is_found():
    data, expression = table("a + b*c", {"a": POSITIVE, "b": POSITIVE, "c": POSITIVE})
    x = data.x.copy()
    x[::10, 0] = 0.0
    zeroed = table_from_arrays(x, x[:, 0] + x[:, 1] * x[:, 2], names=data.names)
    fit = fit_law(zeroed)
    assert fit.verification == "exact" and sympy.simplify(fit.law.expression - expression) == 0


def test_search_gives_up_at_the_time_budget_and_says_not_verified():
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 5, (200, 2))
    data = table_from_arrays(x, np.exp(np.sin(x[:, 0])) + x[:, 1], names=["a", "b"])
    fit = fit_law(data, FitConfig(time_budget=1.0, steps=40, polish_steps=10))
    assert fit.verification == "none"
    assert fit.noise_level is None


def test_too_few_rows_is_refused_naming_the_source():
    x = np.arange(1.0, 6.0)[:, None] * np.ones((1, 2)) + np.arange(2)
    with pytest.raises(ValueError, match=r"^<array>: 5 rows; the search needs at least 8$"):
        fit_law(table_from_arrays(x, x[:, 0] * x[:, 1]))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"holdout": 0.9}, "holdout must lie in"),
        ({"n_starts": 0}, "n starts must be an integer"),
        ({"n_starts": 5}, "must be a multiple of n_kept"),
        ({"lr": -1.0}, "lr must be a finite number above 0"),
        ({"time_budget": math.nan}, "time budget must be a finite number above 0"),
        ({"snap_sigmas": ()}, "snap sigmas must be positive numbers"),
        ({"snap_sigmas": (4.0, -1.0)}, "snap sigmas must be positive numbers"),
    ],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(ValueError, match=message):
        FitConfig(**settings)


def test_fit_config_round_trips_through_json():
    config = FitConfig(seed=3, time_budget=12.5, snap_sigmas=(3.0,))
    assert FitConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown fit settings: colour"):
        FitConfig.from_dict({"colour": 1})


def test_law_json_round_trip_and_refusals(tmp_path):
    data, expression = table("a*b/(a + b)", {"a": POSITIVE, "b": POSITIVE})
    fit = fit_law(data)
    path = tmp_path / "law.json"
    path.write_text(json.dumps(fit.to_dict()))
    law = load_law(path)
    assert sympy.simplify(law.expression - expression) == 0 and law.inputs == ("a", "b")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match=r"other.json: not an arithnet law file"):
        load_law(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"broken.json: not an arithnet law file \(JSONDecodeError\)"):
        load_law(tmp_path / "broken.json")
    with pytest.raises(ValueError, match=r"missing.json: no such file"):
        load_law(tmp_path / "missing.json")


def test_snap_constant_uses_the_tolerance_it_is_given():
    assert snap_constant(1 / (4 * math.pi), 1e-12, 12) == 1 / (4 * sympy.pi)
    assert snap_constant(2 * math.sqrt(math.pi), 0.01, 12) == 2 * sympy.sqrt(sympy.pi)
    # 0.0796 is 1/(4π) only to 5e-5: with a tolerance of 1e-6 it is no known constant.
    assert snap_constant(0.0796, 1e-6, 12) is None


def test_snap_constant_pays_for_its_misfit_given_the_standard_error():
    """0.671 ± 0.010: within 4σ both 2/π (3 bits, 3.6σ off) and 2/3 (4.8 bits, 0.5σ off); the misfit decides."""
    assert snap_constant(0.6712, 4 * 0.0096, 24) == 2 / sympy.pi
    assert snap_constant(0.6712, 4 * 0.0096, 24, sigma=0.0096) == sympy.Rational(2, 3)
    # A wide interval still prefers the plain number to a fraction that fits it better: 0.92 ± 0.14 is 1, not 11/12.
    assert snap_constant(0.92, 4 * 0.14, 24, sigma=0.14) == 1


@given(st.integers(1, 12), st.integers(-30, 30).filter(lambda p: p != 0))
def test_snap_constant_finds_every_small_rational_times_pi(q, p):
    value = p / q * math.pi
    snapped = snap_constant(value, 1e-12 * abs(value), 12)
    assert snapped is not None and abs(float(snapped) - value) <= 1e-12 * abs(value)


def test_structure_test_tells_noise_from_a_smooth_miss():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 5, (250, 4))
    assert structure_p_value(x, 0.01 * rng.standard_normal(250)) > 1e-3
    assert structure_p_value(x, 0.05 * np.sin(x[:, 0]) * x[:, 1]) < 1e-10


@given(st.lists(st.floats(-3, 3), min_size=6, max_size=6), st.floats(-1e3, 1e3).filter(lambda v: abs(v) > 1e-3))
def test_monomials_have_the_complex_logarithm_sign(exponents, value):
    """Integer exponents give (−1)^w exactly; the magnitude is |x|^w."""
    w = torch.tensor([round(e) for e in exponents[:2]], dtype=torch.float64).reshape(1, 1, 2)
    x = torch.tensor([[value, -abs(value)]], dtype=torch.float64)
    m = monomials(x, w)[0, 0, 0]
    expected = value ** int(w[0, 0, 0]) * (-abs(value)) ** int(w[0, 0, 1])
    assert torch.isclose(m, torch.tensor(expected, dtype=torch.float64), rtol=1e-12)


def test_lawnet_solves_its_sums_in_closed_form():
    """With the exponents of a·b/(a + b) = 1/(1/a + 1/b), the projected prediction is the target."""
    unit = LawNet(2, 1, 1, n_terms=2).double()
    with torch.no_grad():
        unit.exponent.copy_(torch.tensor([[[-1.0, 0.0], [0.0, -1.0]]]))
        unit.power.fill_(-1.0)
    x = torch.rand(50, 2, dtype=torch.float64) + 1
    target = (x[:, 0] * x[:, 1] / (x[:, 0] + x[:, 1]))[None]
    assert torch.allclose(unit.projected(x, target)[0, :, 0], target[0], rtol=1e-12)
    assert torch.allclose(unit.coefficient, torch.ones(1, 2, dtype=torch.float64), rtol=1e-10)
    assert torch.allclose(unit(x)[0, :, 0], target[0], rtol=1e-12)


def test_a_power_of_a_column_at_zero_gets_a_note_naming_it():
    """When no law verifies and a column holds zeros, the fit says where a power of it would need log 0."""
    rng = np.random.default_rng(5)
    x = rng.uniform(1, 5, (300, 2))
    x[::7, 0] = 0.0
    y = np.exp(np.sin(3 * x[:, 0])) * x[:, 1]  # no arithmetic law; column a holds zeros
    fit = fit_law(table_from_arrays(x, y, names=["a", "b"]), FitConfig(time_budget=1.0, steps=40, polish_steps=10))
    assert fit.verification == "none"
    assert fit.notes == [
        "column 'a' is 0 in 43 rows (first: row 1): a negative or fractional power of a would need log 0 there; "
        "leave those rows out to search for such a law"
    ]


def noisy_ratio_rows(seed: int = 0):
    """(1 + 2z/3)/(1 − z/3) on z in [0, 1] with 1% noise, and the structure's exponents, roles and two powers."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0, 1, 1000)
    y = (3 + 2 * z) / (3 - z)
    y = y + 0.01 * np.sqrt(np.mean(y**2)) * rng.standard_normal(1000)
    exponents = torch.tensor([[[0.0], [1.0], [1.0]]] * 2, dtype=torch.float64)
    roles = torch.tensor([[1.0, 1.0, -1.0]] * 2, dtype=torch.float64)
    return torch.tensor(z[:, None]), torch.tensor(y), exponents, roles, torch.tensor([1.0, 2.0], dtype=torch.float64)


def test_refine_is_scipy_least_squares_on_every_candidate_at_once():
    """The batched Gauss–Newton of ``refine`` lands where scipy's least_squares does, candidate by candidate.

    It is hand-written because scipy fits one candidate per call: the readout refines hundreds at once.
    """
    scipy_optimize = pytest.importorskip("scipy.optimize")
    x, y, exponents, roles, powers = noisy_ratio_rows()
    start, errors = solve(x, y, exponents, roles, powers)
    refined, _ = refine(x, y, exponents, roles, powers, start, errors)
    m = monomials(x, exponents)
    for i in range(2):

        def residual(c, i=i):
            t = ratio(m[i : i + 1], torch.tensor(c)[None], roles[i : i + 1])[0]
            return (y - signed_power(t, 1 / powers[i])).numpy()

        reference = scipy_optimize.least_squares(residual, start[i].numpy(), xtol=1e-14, ftol=1e-14, gtol=1e-14)
        np.testing.assert_allclose(refined[i].numpy(), reference.x, rtol=1e-6)


def test_refine_removes_the_bias_of_the_linear_ratio_solve():
    """On 1% noise t·Q = P puts 2/3 and −1/3 three standard errors off; the fit of P/Q puts them within one."""
    x, y, exponents, roles, powers = noisy_ratio_rows()
    truth = torch.tensor([1.0, 2 / 3, -1 / 3], dtype=torch.float64)
    linear, linear_errors = solve(x, y, exponents, roles, powers)
    refined, refined_errors = refine(x, y, exponents, roles, powers, linear, linear_errors)
    assert ((linear[0, 1:] - truth[1:]).abs() / linear_errors[0, 1:]).min() > 2.9
    assert ((refined[0] - truth).abs() / refined_errors[0]).max() < 1.0


def test_a_noisy_ratio_reads_out_with_its_own_rationals():
    """1 + n·a/(1 − n·a/3) at 1% noise: 2/3 and 1/3, not the cheaper 2/π that a loose snap of a biased fit gave."""
    data, expression = table("1 + n*a/(1 - n*a/3)", {"n": (0.0, 1.0), "a": (0.0, 1.0)}, noise=0.01)
    fit = fit_law(data)
    assert fit.verification == "noise"
    assert same_law(fit.law.expression, expression, {"n": (0.0, 1.0), "a": (0.0, 1.0)}), fit.law


def test_a_root_of_a_reciprocal_reads_as_a_reciprocal_root():
    """m·c²/√(1 − v²/c²) is written with 1/√(…), not √(1/(…)): the shorter form is the law's complexity."""
    ranges = {"m": POSITIVE, "v": (1.0, 2.0), "c": (3.0, 10.0)}
    data, expression = table("m*c**2/sqrt(1 - v**2/c**2)", ranges)
    fit = fit_law(data)
    assert fit.verification == "exact" and same_law(fit.law.expression, expression, ranges)
    assert "sqrt(1/" not in str(fit.law.expression), fit.law


def test_refine_leaves_rows_where_a_candidate_is_infinite_out_of_its_step():
    """A candidate whose denominator is 0 on a row (z = 1 in 1/(1 − z)) is refined on the other rows, not a crash.

    Its first step leaves the pole (any finite fit beats an infinite one), and from there on every row counts.
    """
    z = torch.linspace(0.0, 1.0, 101, dtype=torch.float64)[:, None]
    y = 2.0 + z[:, 0]
    exponents = torch.tensor([[[0.0], [1.0]]], dtype=torch.float64)
    roles, powers = torch.tensor([[1.0, -1.0]], dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    start, errors = torch.tensor([[1.0, -1.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)
    refined, refined_errors = refine(z, y, exponents, roles, powers, start, errors)
    fitted = ratio(monomials(z, exponents), refined, roles)[0]
    assert torch.isfinite(fitted).all() and torch.isfinite(refined_errors).all()


def test_constants_snapped_in_turn_follow_their_correlation():
    """A ratio's constants move together: fixing the best-determined one and refitting the rest brings them home.

    On these rows (seed 43) the fit puts 1, 2/3 and −1/3 each about 3 of their own standard errors off, all
    along the one direction in which the ratio barely changes. One by one they snap to 1, √2/2 and −1/π;
    in turn, to what they are.
    """
    x, y, exponents, roles, powers = noisy_ratio_rows(seed=43)
    start, errors = solve(x, y, exponents[:1], roles[:1], powers[:1])
    fitted, errors = refine(x, y, exponents[:1], roles[:1], powers[:1], start, errors)
    one_by_one = [constant(float(v), float(e), 24, 4.0) for v, e in zip(fitted[0], errors[0], strict=True)]
    assert one_by_one == [1, sympy.sqrt(2) / 2, -1 / sympy.pi]
    structure = Structure(exponents[0], roles[0], fitted[0], errors[0], Fraction(1), "y = ratio 2/1")
    turned = snapped_in_turn(Rows(x, y, x, y), structure, 24, 4.0)
    assert turned is not None
    assert turned.coefficients.tolist() == pytest.approx([1.0, 2 / 3, -1 / 3], abs=1e-12)
    assert turned.errors.tolist() == [0.0, 0.0, 0.0]
    squared = Structure(exponents[0], roles[0], fitted[0], errors[0], Fraction(2), "y^2 = ratio 2/1")
    assert snapped_in_turn(Rows(x, y, x, y), squared, 24, 4.0) is None  # under a power the readout's own way
