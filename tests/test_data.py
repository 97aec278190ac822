"""Ranges and the fixed test sets."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from arithnet import Range
from arithnet.data import evaluation_sets, sample_uniform


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3,1", "empty or inverted"),
        ("1,1", "empty or inverted"),
        ("1", "two numbers"),
        ("a,b", "two numbers"),
        ("nan,1", "finite ends"),
        ("-inf,1", "finite ends"),
        ("1,2,3", "two numbers"),
    ],
)
def test_bad_ranges_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        Range.parse(text)


def test_parse_accepts_comma_or_colon():
    assert Range.parse("0.1,10") == Range.parse("0.1:10") == Range(0.1, 10.0)


@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-3, 1e6, allow_nan=False),
    u=st.floats(0.0, 1.0, exclude_max=True),
)
def test_samples_stay_inside_the_range(low, width, u):
    r = Range(low, low + width)
    value = float(sample_uniform(torch.tensor([u], dtype=torch.float64), r)[0])
    assert r.low - 1e-9 * abs(r.low) <= value <= r.high + 1e-9 * abs(r.high)
    if not r.contains_zero:
        value = float(sample_uniform(torch.tensor([u], dtype=torch.float64), r, log_uniform=True)[0])
        assert min(abs(r.low), abs(r.high)) * (1 - 1e-9) <= abs(value) <= r.magnitude * (1 + 1e-9)


def test_log_uniform_needs_one_side_of_zero():
    with pytest.raises(ValueError, match="without zero"):
        sample_uniform(torch.zeros(1), Range(-1.0, 1.0), log_uniform=True)


def test_test_sets_cover_large_negative_and_mixed_inputs():
    sets = {s.name: s.inputs for s in evaluation_sets(Range(0.1, 10.0))}
    assert set(sets) == {"train", "x10-x1000", "negative", "mixed-sign"}
    large = sets["x10-x1000"]
    assert float(large.min()) >= 100 and float(large.max()) <= 10_000
    assert (sets["negative"] < 0).all()
    mixed = sets["mixed-sign"]
    assert (mixed < 0).any() and (mixed > 0).any()
    # Fixed by their own seed: the same every time.
    assert torch.equal(large, {s.name: s.inputs for s in evaluation_sets(Range(0.1, 10.0))}["x10-x1000"])
    assert math.isclose(float(sets["train"].min()), 0.1, rel_tol=0.5)
