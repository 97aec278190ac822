"""The division paper's extra grids: every distribution samples what it says, alone and inside a group."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
import torch

from arithnet.bench.protocol import DIVISION_EXTRA_RANGES, Distribution, GroupData, target_masks
from arithnet.operations import get_operation
from arithnet.random import stream_keys

N = 200_000
ROLES = ("a", "b", "other")
# Every distinct distribution of the grid, by a readable id.
DISTRIBUTIONS = {
    f"{pair.name}/{split}/{role}={pair.role(split, role)}": pair.role(split, role)
    for pair in DIVISION_EXTRA_RANGES.values()
    for split in ("train", "test")
    for role in ROLES
}
STANDARD = NormalDist()


def magnitude_cdf(dist: Distribution, m: torch.Tensor) -> torch.Tensor:
    """P(|x| ≤ m) for a random sign, else P(x ≤ m), from the textbook formulas."""
    if dist.kind == "uniform":
        return (m - dist.low) / (dist.high - dist.low)
    if dist.kind == "loguniform":
        return torch.log(m / dist.low) / math.log(dist.high / dist.low)
    alpha, beta = ((bound - dist.mean) / dist.std for bound in (dist.low, dist.high))
    phi = 0.5 * (1 + torch.erf((m - dist.mean) / dist.std / math.sqrt(2)))
    return (phi - STANDARD.cdf(alpha)) / (STANDARD.cdf(beta) - STANDARD.cdf(alpha))


def magnitude_moments(dist: Distribution) -> tuple[float, float]:
    """(mean, variance) of |x| for a random sign, else of x."""
    low, high = dist.low, dist.high
    if dist.kind == "uniform":
        return (low + high) / 2, (high - low) ** 2 / 12
    if dist.kind == "loguniform":
        log_ratio = math.log(high / low)
        mean = (high - low) / log_ratio
        return mean, (high**2 - low**2) / (2 * log_ratio) - mean**2
    alpha, beta = ((bound - dist.mean) / dist.std for bound in (low, high))
    z = STANDARD.cdf(beta) - STANDARD.cdf(alpha)
    shift = (STANDARD.pdf(alpha) - STANDARD.pdf(beta)) / z
    spread = 1 + (alpha * STANDARD.pdf(alpha) - beta * STANDARD.pdf(beta)) / z - shift**2
    return dist.mean + dist.std * shift, dist.std**2 * spread


@pytest.fixture(scope="module")
def uniforms() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(2022)
    return torch.rand(N, generator=generator, dtype=torch.float64), torch.rand(
        N, generator=generator, dtype=torch.float64
    )


@pytest.mark.parametrize("dist", DISTRIBUTIONS.values(), ids=DISTRIBUTIONS.keys())
def test_samples_lie_in_the_support_with_the_stated_signs(dist, uniforms):
    x = dist.sample(*uniforms)
    magnitude = x.abs() if dist.random_sign else x
    assert float(magnitude.min()) >= dist.low and float(magnitude.max()) <= dist.high
    if dist.random_sign:
        # Each sign with probability 1/2: 0.005 is 4.5 standard errors at N = 200,000.
        assert abs(float((x < 0).double().mean()) - 0.5) < 0.005
        assert float(x.abs().min()) >= dist.low > 0  # ±U[low, high]: nothing between −low and low


@pytest.mark.parametrize("dist", DISTRIBUTIONS.values(), ids=DISTRIBUTIONS.keys())
def test_mean_and_quantiles_match_the_distribution(dist, uniforms):
    x = dist.sample(*uniforms)
    magnitude = x.abs() if dist.random_sign else x
    mean, variance = magnitude_moments(dist)
    standard_error = math.sqrt(variance / N)
    assert abs(float(magnitude.mean()) - mean) < 5 * standard_error
    if dist.random_sign:  # signed: mean 0, standard error from E[x²]
        assert abs(float(x.mean())) < 5 * math.sqrt((variance + mean**2) / N)
    # Kolmogorov–Smirnov: the empirical CDF stays within 1.95/√N of the true one (p = 0.001).
    ordered = magnitude.sort().values
    cdf = magnitude_cdf(dist, ordered)
    steps = torch.arange(1, N + 1, dtype=torch.float64) / N
    distance = torch.maximum(steps - cdf, cdf - (steps - 1 / N)).max()
    assert float(distance) < 1.95 / math.sqrt(N)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("dist", DISTRIBUTIONS.values(), ids=DISTRIBUTIONS.keys())
def test_extreme_uniforms_stay_inside_the_bounds(dist, dtype):
    # u = 1 − 2⁻⁵³ is the largest float64 below 1; cast to float32 it becomes 1.0, as the group's
    # training batches in float32 do. Rounding once put such samples an ulp beyond the upper bound.
    u = torch.tensor([0.0, 2**-40, 1 - 2**-24, 1 - 2**-53], dtype=torch.float64).to(dtype)
    x = dist.sample(u, torch.zeros_like(u))
    magnitude = x.abs() if dist.random_sign else x
    low, high = (float(torch.tensor(bound, dtype=dtype)) for bound in (dist.low, dist.high))
    assert float(magnitude.min()) >= low and float(magnitude.max()) <= high, x.tolist()


def test_truncated_normals_keep_their_mean_inside_their_bounds():
    # N(4, 1) on [2, 6] is symmetric: mean 4. N(1, 0.5) on [0.1, 2] is cut more below: its mean is above 1.
    assert magnitude_moments(Distribution(2, 6, kind="truncnormal", mean=4, std=1))[0] == pytest.approx(4)
    assert 1 < magnitude_moments(Distribution(0.1, 2, kind="truncnormal", mean=1, std=0.5))[0] < 1.1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_a_group_of_every_extra_range_gives_each_input_its_own_distribution(dtype):
    # One tensor program samples all kinds at once, element by element: each run's a, b and
    # distractors must still follow their own range, in training and at test.
    pairs = list(DIVISION_EXTRA_RANGES.values())
    seeds = list(range(len(pairs)))
    data = GroupData("primer", 4, seeds, pairs, get_operation("div"), dtype, "cpu")
    a_mask, b_mask = target_masks("primer", 4, stream_keys(seeds))
    x_train, _ = data.batch(1, 2_000)
    x_test, _ = data.fixed_set("test", 2_000)
    for run, pair in enumerate(pairs):
        for split, x in (("train", x_train[run]), ("test", x_test[run])):
            columns = {"a": a_mask[run] > 0, "b": b_mask[run] > 0, "other": (a_mask[run] + b_mask[run]) == 0}
            for role, column in columns.items():
                dist = pair.role(split, role)
                values = x[:, column].double()
                magnitude = values.abs() if dist.random_sign else values
                # In float32 the bounds themselves are rounded to float32.
                low, high = (float(torch.tensor(bound, dtype=dtype)) for bound in (dist.low, dist.high))
                where = f"{pair.name} {split} {role} {dist}"
                assert float(magnitude.min()) >= low and float(magnitude.max()) <= high, where
                if dist.random_sign:
                    assert 0.4 < float((values < 0).double().mean()) < 0.6, where
