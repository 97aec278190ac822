"""The counter-based generator: exact hash values, ranges, independence from S."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from arithnet import random as counter_random

MASK = (1 << 64) - 1


def splitmix64_reference(x: int) -> int:
    """SplitMix64's finaliser on Python integers (no overflow anywhere)."""
    x &= MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_mix64_matches_python_integers(value):
    # Relies on int64 multiplication wrapping modulo 2**64, which this checks.
    result = int(counter_random.mix64(torch.tensor([value], dtype=torch.int64))[0]) & MASK
    assert result == splitmix64_reference(value)


def test_uniform_is_in_unit_interval_with_right_moments():
    u = counter_random.uniform(counter_random.stream_keys(range(4)), stream=9, counter=0, shape=(50_000,))
    assert u.shape == (4, 50_000) and u.dtype == torch.float64
    assert 0.0 <= float(u.min()) and float(u.max()) < 1.0
    assert abs(float(u.mean()) - 0.5) < 0.005
    assert abs(float(u.var()) - 1 / 12) < 0.002


def test_seeds_streams_and_counters_give_unrelated_numbers():
    keys = counter_random.stream_keys(range(4))
    u = counter_random.uniform(keys, stream=9, counter=0, shape=(50_000,))
    others = {
        "seed": u[1],
        "stream": counter_random.uniform(keys, stream=10, counter=0, shape=(50_000,))[0],
        "counter": counter_random.uniform(keys, stream=9, counter=1, shape=(50_000,))[0],
    }
    for changed, other in others.items():
        # Not one of the 50,000 numbers comes back anywhere among the other 50,000: a shared or
        # shifted stream would repeat nearly all; by chance, with 53-bit numbers, P(any) ≈ 3e-7 ...
        assert int(torch.isin(u[0], other).sum()) == 0, changed
        # ... and they are uncorrelated: |r| < 0.02 is 4.5 standard errors (1/sqrt(50,000)).
        r = float(torch.corrcoef(torch.stack([u[0], other]))[0, 1])
        assert abs(r) < 0.02, (changed, r)


def test_a_seed_draws_the_same_numbers_whatever_its_company():
    alone = counter_random.uniform(counter_random.stream_keys([7]), 2, 3, (5, 2))
    among = counter_random.uniform(counter_random.stream_keys(range(100)), 2, 3, (5, 2))
    assert torch.equal(alone[0], among[7])


def test_seed_numbers_must_be_unsigned_32_bit():
    import pytest

    with pytest.raises(ValueError, match=r"seed numbers must lie in \[0, 2\*\*32\)"):
        counter_random.stream_keys([-1])


def test_stream_numbers_are_named_once_and_keep_their_values():
    from arithnet.random import Stream

    # These values are part of every stored result: they must never change.
    assert {stream.name: int(stream) for stream in Stream} == {
        "INIT": 1,
        "DATA": 2,
        "TEST": 3,
        "SEED_POST_INPUTS": 4,
        "BENCH_DATA": 5,
        "VERIFY": 6,
        "LAW_ROWS": 8,
        "BENCH_INDEX_SALT": 7919,
    }
    keys = counter_random.stream_keys(range(3))
    assert torch.equal(counter_random.uniform(keys, Stream.DATA, 5, (4,)), counter_random.uniform(keys, 2, 5, (4,)))
