"""The success thresholds: the shipped table, its agreement with the papers, and the simulation's formulas."""

import json
import math

import pytest
import torch

from arithnet.bench import thresholds as th
from arithnet.bench.tasks import PRIMER_RANGES
from arithnet.operations import OPERATIONS


@pytest.fixture(scope="module")
def shipped() -> dict:
    return json.loads(th.TABLE_PATH.read_text())


def test_table_has_every_key_with_positive_finite_values(shipped):
    table = shipped["thresholds"]
    keys = [th.table_key(*config) for config in th.table_configurations()]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(table)
    assert all(math.isfinite(v) and v > 0 for v in table.values())
    assert (shipped["n_samples"], shipped["iclr_epsilon"], shipped["primer_epsilon"]) == (
        th.N_SAMPLES,
        th.ICLR_EPSILON,
        th.PRIMER_EPSILON,
    )


def test_threshold_reads_the_table(shipped):
    key = th.table_key("primer", "div", "7", 10)
    assert th.threshold("primer", "div", "7", 10) == shipped["thresholds"][key]
    assert th.threshold("raw", "mul", "near-zero-0.01", 10) == th.RAW == 1e-5


@pytest.mark.parametrize("range_name", list(PRIMER_RANGES))
def test_primer_division_input_2_lies_in_the_published_band(range_name):
    # nalm.md: "about 5e-8 to 1.5e-7 per range" for division with 2 inputs.
    assert 4e-8 < th.threshold("primer", "div", range_name, 2) < 1.6e-7


def test_primer_multiplication_input_2_spans_the_published_band():
    values = [th.threshold("primer", "mul", name, 2) for name in PRIMER_RANGES]
    # nalm.md: "for multiplication 9e-8 to 3.5e-2".
    assert min(values) == pytest.approx(9e-8, rel=0.1)
    assert max(values) == pytest.approx(3.5e-2, rel=0.1)


@pytest.mark.parametrize("operation", ["add", "sub", "mul", "div"])
def test_iclr_task_near_the_published_thresholds(operation):
    value = th.threshold("iclr", operation, "iclr", 100, task="iclr")
    assert th.ICLR_PUBLISHED[operation] / 1.5 < value < th.ICLR_PUBLISHED[operation] * 1.5


@pytest.mark.parametrize("operation", ["add", "sub", "mul"])
def test_iclr_authors_subsets_reproduce_the_published_numbers(operation):
    # With the R script's 26-element subsets the published numbers come back; 20k samples suffice
    # for +, −, × (their MSE is dominated by the error's mean or has little spread).
    value = th.simulate("iclr", operation, "iclr", 100, "iclr", n_samples=20_000, published_subsets=True)
    assert value == pytest.approx(th.ICLR_PUBLISHED[operation], rel=0.05)


def test_the_published_iclr_numbers_need_an_exact_output_layer():
    exact = th.simulate("iclr", "add", "iclr", 100, "iclr", n_samples=5_000, published_subsets=True)
    perturbed = th.simulate(
        "iclr", "add", "iclr", 100, "iclr", n_samples=5_000, published_subsets=True, perturb_output_layer=True
    )
    assert perturbed < exact / 3


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_primer_formulas_match_a_closed_form(operation):
    # Two inputs, U[2, 6]: add/sub error −ε(|a| + |b|); mul, div error (scale − 1)·(a op b).
    eps, x = th.PRIMER_EPSILON, torch.tensor([[3.0, 5.0], [2.5, 4.0]], dtype=torch.float64)
    a, b = x[:, 0], x[:, 1]
    expected = {
        "add": -eps * (a + b),
        "sub": -eps * (a + b),
        "mul": ((1 - eps) ** 2 - 1) * a * b,
        "div": ((1 - eps) / (1 + eps) - 1) * a / b,
    }[operation]
    torch.testing.assert_close(th._primer_errors(operation, x, eps), expected, rtol=1e-9, atol=0)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_iclr_formulas_are_the_weighted_units(operation):
    eps = th.ICLR_EPSILON
    x = torch.tensor([[-3.0, 5.0, 2.0, -4.0]], dtype=torch.float64)
    a, b, o1, o2 = x[0].tolist()
    good, small = 1 - eps, eps
    output = {
        "add": good * a + good * b + small * (o1 + o2),
        "sub": good * a - good * b + small * (o1 + o2),
        "mul": (good * a + 1 - good) * (good * b + 1 - good) * (small * o1 + 1 - small) * (small * o2 + 1 - small),
        "div": -(abs(a) ** good) * abs(b) ** -good * abs(o1) ** small * abs(o2) ** small,
    }[operation]
    exact = OPERATIONS[operation].compute(a, b)
    assert th._iclr_errors(operation, x, eps).item() == pytest.approx(output - exact, rel=1e-6, abs=1e-15)


def test_small_simulations_are_reproducible_and_close_to_the_table():
    first = th.simulate("primer", "mul", "9", 2, n_samples=2_000)
    assert first == th.simulate("primer", "mul", "9", 2, n_samples=2_000)
    assert first == pytest.approx(th.threshold("primer", "mul", "9", 2), rel=0.1)


def test_missing_key_is_simulated_without_writing(monkeypatch, tmp_path):
    monkeypatch.setattr(th, "TABLE_PATH", tmp_path / "absent.json")
    th._shipped_table.cache_clear()
    th._simulated.cache_clear()
    monkeypatch.setattr(th, "simulate", lambda *args, **kwargs: 0.25)
    try:
        assert th.threshold("iclr", "add", "3", 5) == 0.25
        assert not (tmp_path / "absent.json").exists()
    finally:
        th._shipped_table.cache_clear()
        th._simulated.cache_clear()


def test_write_table_is_atomic_and_readable(monkeypatch, tmp_path):
    monkeypatch.setattr(th, "table_configurations", lambda: [("primer", "add", "7", 2, "primer")])
    path = tmp_path / "thresholds.json"
    table = th.write_table(path, n_samples=100)
    assert json.loads(path.read_text())["thresholds"] == table
    assert list(tmp_path.iterdir()) == [path]


def test_primer_criterion_is_undefined_on_the_iclr_task():
    assert math.isnan(th.threshold("primer", "mul", "iclr", 100, task="iclr"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("strict", "add", "7", 2), "valid criteria: raw, iclr, primer"),
        (("iclr", "pow", "7", 2), "valid operations: add, sub, mul, div"),
        (("iclr", "add", "10", 2), "valid ranges: 1, 2,"),
        (("iclr", "add", "7", 2, "nalu"), "valid tasks: primer, iclr"),
        (("iclr", "add", "7", 1), "input_size >= 2"),
        (("iclr", "add", "iclr", 20, "iclr"), "at least 38 inputs"),
        (("iclr", "add", "mixed-7", 100, "iclr"), "own distributions"),
    ],
)
def test_unknown_names_raise_with_the_valid_ones(arguments, message):
    with pytest.raises(ValueError, match=message):
        th.threshold(*arguments)


def test_markdown_table_lists_every_range_and_the_iclr_comparison():
    text = th.markdown_table()
    assert "| near-zero-0.0001 |" in text and "| benford |" in text
    assert "published (ICLR 2020) | 1.479e-05 | 1.384e-08 | 0.16 | 4.938e-12 |" in text
    assert text.count("### ") == 2 * len(th.INPUT_SIZES) + 1
