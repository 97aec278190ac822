"""Counter-based random numbers, one independent stream per seed.

Training S seeds as one tensor program needs random numbers that depend on the
seed number alone, never on how many other seeds share the tensor: seed 7
trained alone must see exactly the numbers it sees among 100 seeds. A single
``torch.Generator`` cannot give that without a Python loop over seeds, so
arithnet draws its numbers from a hash of ``(seed, stream, counter, index)``,
the idea of counter-based generators such as Philox (Salmon et al., SC 2011).
The hash is SplitMix64's finaliser (Steele, Lea & Flood, OOPSLA 2014) on int64
tensors; it relies on int64 multiplication wrapping around modulo 2**64, which
``tests/test_random.py`` checks against Python integers.

``uniform_numpy`` draws the same numbers with numpy's uint64 arithmetic, for
the parts of arithnet that do not train (a law search's held-out split) and
must not wait for torch; torch is imported only by the functions that use it.

Shape letters: N streams (seeds, or seed × restart candidates).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


class Stream(enum.IntEnum):
    """Every stream number arithnet draws from, in one place so that no two uses collide.

    The values are part of every stored result: changing one changes the
    numbers drawn and so breaks bit-for-bit reproduction.
    """

    #: Initial weights (``arithnet.units.init.Sampler``).
    INIT = 1
    #: Training batches of the default trainer (``arithnet.data.BatchStream``).
    DATA = 2
    #: The fixed evaluation sets (``arithnet.data.evaluation_sets``).
    TEST = 3
    #: The seed post's input candidates (``arithnet.training.recipes.seed_post``).
    SEED_POST_INPUTS = 4
    #: Training, validation and test inputs of the benchmark protocol (``arithnet.bench.protocol``).
    BENCH_DATA = 5
    #: Fresh samples on which a snapped network is verified (``arithnet.training.polish``).
    VERIFY = 6
    #: A law search's held-out split and training rows (``arithnet.laws.search``).
    LAW_ROWS = 8
    #: Not a stream: the ``derive`` index whose keys pick each run's Primer
    #: configuration (``arithnet.bench.protocol``); 7919 is the 1000th prime.
    BENCH_INDEX_SALT = 7919


def _int64(value: int) -> int:
    """An unsigned 64-bit constant as the signed int64 with the same bits."""
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN = _int64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, SplitMix64's increment
_MIX1 = _int64(0xBF58476D1CE4E5B9)
_MIX2 = _int64(0x94D049BB133111EB)


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift (torch's >> on int64 is arithmetic)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def mix64(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finaliser: every input bit affects every output bit."""
    x = (x ^ _shift_right(x, 30)) * _MIX1
    x = (x ^ _shift_right(x, 27)) * _MIX2
    return x ^ _shift_right(x, 31)


def stream_keys(seeds: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Keys (N,) for the given seed numbers."""
    import torch

    seeds = torch.as_tensor(seeds, dtype=torch.int64).reshape(-1)
    if (seeds < 0).any() or (seeds >= 2**32).any():
        raise ValueError("seed numbers must lie in [0, 2**32)")
    return mix64(seeds * _GOLDEN)


def derive(keys: torch.Tensor, index: torch.Tensor | int) -> torch.Tensor:
    """Independent child keys, e.g. one per restart of a seed."""
    import torch

    return mix64(keys + (torch.as_tensor(index, dtype=torch.int64) + 1) * _GOLDEN)


def uniform(
    keys: torch.Tensor,
    stream: Stream | int,
    counter: int,
    shape: Sequence[int],
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Uniform numbers in [0, 1) of shape (N, *shape), 53 random bits each.

    ``stream`` names what the numbers are for (a :class:`Stream`, or a plain int) and
    ``counter`` is usually a step or chunk number, so that every
    (stream, counter) pair gets fresh numbers.
    """
    return uniform_counters(keys, stream, range(counter, counter + 1), shape, dtype)[:, 0]


def uniform_counters(
    keys: torch.Tensor,
    stream: Stream | int,
    counters: range,
    shape: Sequence[int],
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``uniform`` for several consecutive counters in one call, (N, len(counters), *shape).

    Element [:, c] equals ``uniform(keys, stream, counters[c], shape)`` bit for
    bit: one call instead of many, where the per-call overhead dominates.
    """
    import torch

    counter = torch.arange(counters.start, counters.stop, dtype=torch.int64)
    base = derive(derive(keys, int(stream))[:, None], counter[None, :])  # (N, C)
    index = torch.arange(1, math.prod(shape) + 1, dtype=torch.int64) * _GOLDEN
    words = mix64(base[..., None] + index)
    values = _shift_right(words, 11).to(torch.float64) * 2.0**-53
    return values.reshape(len(keys), len(counter), *shape).to(dtype or torch.float64)


_MASK = (1 << 64) - 1


def _mix64_numpy(x: np.ndarray) -> np.ndarray:
    """``mix64`` on uint64 arrays (numpy's uint64 arithmetic wraps modulo 2**64, its >> is logical)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(_MIX1 & _MASK)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(_MIX2 & _MASK)
    return x ^ (x >> np.uint64(31))


def _derive_numpy(key: np.ndarray, index) -> np.ndarray:
    return _mix64_numpy(key + (np.asarray(index, dtype=np.uint64) + np.uint64(1)) * np.uint64(_GOLDEN & _MASK))


def uniform_numpy(seed: int, stream: Stream | int, counter: int, size: int) -> np.ndarray:
    """``uniform(stream_keys([seed]), stream, counter, (size,))[0]`` bit for bit, with numpy alone: (size,)."""
    if not 0 <= seed < 2**32:
        raise ValueError("seed numbers must lie in [0, 2**32)")
    with np.errstate(over="ignore"):
        key = _mix64_numpy(np.uint64(seed) * np.uint64(_GOLDEN & _MASK))
        base = _derive_numpy(_derive_numpy(key, int(stream)), counter)
        index = np.arange(1, size + 1, dtype=np.uint64) * np.uint64(_GOLDEN & _MASK)
        words = _mix64_numpy(base + index)
    return (words >> np.uint64(11)).astype(np.float64) * 2.0**-53
