"""Input ranges, training samples and the fixed test sets that decide "solved"."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from arithnet import random as counter_random

#: Test sets are drawn from this seed, whatever seeds are trained.
TEST_SEED = 2**31 - 1


#: Bounds on |end| of a training range. The test sets reach 1000 times the
#: largest end and go down to the smallest (1% of the largest for a range that
#: holds zero), and × squares sums of inputs; with ends within [1e-100, 1e100]
#: every test input, target and square is below about 1e207 in magnitude and the
#: log-uniform ones above 1e-205, far inside float64 (2.2e-308 to 1.8e308):
#: nothing overflows to ±inf, as 1e308 ends did.
MAX_MAGNITUDE = 1e100
MIN_MAGNITUDE = 1e-100


@dataclass(frozen=True)
class Range:
    """The closed interval [low, high] from which every input is drawn.

    Each end is 0 or has a magnitude in [MIN_MAGNITUDE, MAX_MAGNITUDE] (1e-100
    to 1e100), so that the test sets built from the range stay finite.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"range [{self.low}, {self.high}] must have finite ends")
        if not self.low < self.high:
            raise ValueError(f"range [{self.low}, {self.high}] is empty or inverted: low must be below high")
        for end in (self.low, self.high):
            if end != 0 and not MIN_MAGNITUDE <= abs(end) <= MAX_MAGNITUDE:
                raise ValueError(
                    f"range [{self.low:g}, {self.high:g}]: each end must be 0 or between {MIN_MAGNITUDE:g} and "
                    f"{MAX_MAGNITUDE:g} in magnitude (the test sets go to 1000 times the largest end), got {end:g}"
                )

    @classmethod
    def parse(cls, text: str) -> Range:
        """Read 'LOW,HIGH' (a colon works too)."""
        parts = text.replace(":", ",").split(",")
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"range {text!r} must be two numbers LOW,HIGH, e.g. 0.1,10") from None
        return cls(low, high)

    @property
    def contains_zero(self) -> bool:
        return self.low <= 0.0 <= self.high

    @property
    def magnitude(self) -> float:
        """Largest |x| in the range."""
        return max(abs(self.low), abs(self.high))

    @property
    def smallest_magnitude(self) -> float:
        """Smallest |x| in the range, or 1% of the largest when the range holds zero."""
        if self.contains_zero:
            return 0.01 * self.magnitude
        return min(abs(self.low), abs(self.high))

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}]"


def sample_uniform(u: torch.Tensor, value_range: Range, log_uniform: bool = False) -> torch.Tensor:
    """Map U[0, 1) numbers into the range, uniformly or uniformly in log|x|.

    Log-uniform sampling gives every decade of a range like [0.1, 10] the same
    weight; it needs a range on one side of zero.
    """
    if not log_uniform:
        return value_range.low + (value_range.high - value_range.low) * u
    if value_range.contains_zero:
        raise ValueError(f"log-uniform sampling needs a range without zero, got {value_range}")
    sign = 1.0 if value_range.low > 0 else -1.0
    lo, hi = sorted((math.log(abs(value_range.low)), math.log(abs(value_range.high))))
    return sign * torch.exp(lo + (hi - lo) * u)


class BatchStream:
    """Training inputs (N, *shape) for step 1, 2, ..., from each seed's own stream.

    Batches are drawn ``chunk`` steps at a time: one call into the generator
    per chunk rather than per step, since the call overhead dominates.
    """

    def __init__(
        self, keys: torch.Tensor, value_range: Range, shape: tuple[int, ...], log_uniform: bool = False, chunk: int = 32
    ) -> None:
        self.keys, self.value_range, self.shape = keys, value_range, shape
        self.log_uniform, self.chunk = log_uniform, chunk
        self._chunk_index = -1
        self._values = torch.empty(0)

    def batch(self, step: int) -> torch.Tensor:
        chunk_index, offset = divmod(step - 1, self.chunk)
        if chunk_index != self._chunk_index:
            u = counter_random.uniform(self.keys, counter_random.Stream.DATA, chunk_index, (self.chunk, *self.shape))
            self._values = sample_uniform(u, self.value_range, self.log_uniform)
            self._chunk_index = chunk_index
        return self._values[:, offset]


@dataclass(frozen=True)
class EvaluationSet:
    name: str
    description: str
    inputs: torch.Tensor  # (B, I), float64


def _log_uniform_magnitudes(u: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return torch.exp(math.log(low) + (math.log(high) - math.log(low)) * u)


def evaluation_sets(train: Range, n_inputs: int = 2, n_samples: int = 1000) -> list[EvaluationSet]:
    """The fixed sets on which a trained model must be right.

    - ``train``: the training range itself (interpolation);
    - ``x10-x1000``: |x| log-uniform from 10 to 1000 times the range's largest
      magnitude, with the range's sign (random signs if it holds zero);
    - ``negative``: every input negative, |x| log-uniform from the range's
      smallest magnitude to 1000 times its largest;
    - ``mixed-sign``: as ``negative`` with a random sign per input.
    """
    keys = counter_random.stream_keys([TEST_SEED])
    shape = (n_samples, n_inputs)

    def uniform(counter: int) -> torch.Tensor:
        return counter_random.uniform(keys, counter_random.Stream.TEST, counter, shape)[0]

    big, small = train.magnitude, train.smallest_magnitude
    random_sign = torch.where(uniform(0) < 0.5, -1.0, 1.0)
    range_sign = 1.0 if train.low >= 0 else (-1.0 if train.high <= 0 else random_sign)
    wide = _log_uniform_magnitudes(uniform(3), small, 1000.0 * big)
    return [
        EvaluationSet("train", f"U{train}", sample_uniform(uniform(1), train)),
        EvaluationSet(
            "x10-x1000",
            f"|x| in [{10 * big:g}, {1000 * big:g}]",
            range_sign * _log_uniform_magnitudes(uniform(2), 10 * big, 1000 * big),
        ),
        EvaluationSet("negative", f"x in [{-1000 * big:g}, {-small:g}]", -wide),
        EvaluationSet("mixed-sign", f"|x| in [{small:g}, {1000 * big:g}], random signs", random_sign * wide),
    ]
