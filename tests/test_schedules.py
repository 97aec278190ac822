"""The step schedules: the same value for an int step and a 0-d tensor step, and their closed forms."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from arithnet.schedules import l1_weight, ramp

steps = st.integers(min_value=0, max_value=10**12)
scales = st.floats(min_value=0.0, max_value=1e3, allow_nan=False)
bounds = st.integers(min_value=0, max_value=10**7)


def as_int_and_tensor(schedule, step, *options):
    """The schedule at ``step`` as an int and as a 0-d int64 tensor."""
    from_int = schedule(step, *options)
    from_tensor = schedule(torch.tensor(step), *options)
    assert isinstance(from_int, float)
    assert isinstance(from_tensor, torch.Tensor) and from_tensor.shape == () and from_tensor.dtype == torch.float64
    return from_int, float(from_tensor)


@given(step=steps, scale=scales, start=bounds, length=bounds)
def test_ramp_is_the_same_for_int_and_tensor_steps(step, scale, start, length):
    from_int, from_tensor = as_int_and_tensor(ramp, step, scale, start, start + length)
    assert from_int == from_tensor


@given(scale=scales, start=bounds, length=st.integers(min_value=1, max_value=10**7))
def test_ramp_is_zero_before_start_and_full_after_end(scale, start, length):
    end = start + length
    for step in [0, start // 2, start]:
        assert ramp(step, scale, start, end) == 0.0
    for step in [end, end + 1, 10 * end + 7]:
        assert ramp(step, scale, start, end) == scale


@given(scale=scales, start=bounds, length=bounds, a=steps, b=steps)
def test_ramp_is_monotone(scale, start, length, a, b):
    low, high = sorted([a, b])
    assert ramp(low, scale, start, start + length) <= ramp(high, scale, start, start + length)


def test_ramp_with_start_equal_to_end_is_a_step_for_tensor_steps_too():
    assert [float(ramp(torch.tensor(step), 2.0, 100, 100)) for step in (99, 100, 101)] == [0.0, 2.0, 2.0]


def test_ramp_keeps_tensor_steps_in_one_graph():
    # The reason for the tensor form: one traced function serves every step.
    compiled = torch.compile(lambda step: ramp(step, 0.01, 5_000, 50_000), fullgraph=True, backend="eager")
    assert float(compiled(torch.tensor(27_500))) == pytest.approx(0.005, rel=1e-12)
    assert float(compiled(torch.tensor(60_000))) == 0.01


growths = st.sampled_from([1.5, 2.0, 10.0, 100.0])
intervals = st.integers(min_value=1, max_value=50_000)
beta_starts = st.sampled_from([1e-9, 1e-7, 3e-6, 1.0])
decades = st.integers(min_value=0, max_value=6)


@given(step=steps, start=beta_starts, decades=decades, growth=growths, interval=intervals)
def test_l1_weight_is_the_same_for_int_and_tensor_steps(step, start, decades, growth, interval):
    from_int, from_tensor = as_int_and_tensor(l1_weight, step, start, start * 10**decades, growth, interval)
    assert from_int == from_tensor


@given(step=st.integers(min_value=0, max_value=10**7), start=beta_starts, decades=decades, growth=growths,
       interval=intervals)  # fmt: skip
def test_l1_weight_is_the_closed_form(step, start, decades, growth, interval):
    end = start * 10**decades
    try:
        expected = min(start * growth ** (step // interval), end)
    except OverflowError:  # growth^k beyond float range: the minimum is the end
        expected = end
    assert l1_weight(step, start, end, growth, interval) == pytest.approx(expected, rel=1e-15)


@given(start=beta_starts, decades=decades, growth=growths, interval=intervals, a=steps, b=steps)
def test_l1_weight_is_monotone_and_ends_at_its_end(start, decades, growth, interval, a, b):
    end = start * 10**decades
    low, high = sorted([a, b])
    assert l1_weight(low, start, end, growth, interval) <= l1_weight(high, start, end, growth, interval) <= end
    assert l1_weight(10**15, start, end, growth, interval) == end


def test_l1_weight_of_the_npu_paper():
    # Division: 1e-9 growing tenfold every 10,000 steps up to 1e-7.
    values = [l1_weight(step, 1e-9, 1e-7, 10.0, 10_000) for step in (0, 9_999, 10_000, 20_000, 10**9)]
    assert values == pytest.approx([1e-9, 1e-9, 1e-8, 1e-7, 1e-7], rel=1e-12)
    assert l1_weight(10**18, 0.0, 1e-7, 10.0, 1) == 0.0  # no 0·inf
    assert math.isfinite(float(l1_weight(torch.tensor(10**18), 1e-9, 1e-7, 10.0, 1)))
