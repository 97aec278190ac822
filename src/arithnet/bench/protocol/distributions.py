"""Input distributions of the benchmark ranges, sampled from U[0, 1) numbers.

Every range of the field's benchmarks is one of three kinds, each with an
optional random sign (the Primer's test range 5 draws each element from
U[−6, −2] or U[2, 6] with equal chance):

- ``uniform``: U[low, high];
- ``loguniform``: |x| log-uniform on [low, high] (the division paper's
  "Benford" range), low > 0;
- ``truncnormal``: N(mean, std²) truncated to [low, high], by inverting the CDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

KINDS = ("uniform", "loguniform", "truncnormal")


@dataclass(frozen=True)
class Distribution:
    low: float
    high: float
    kind: str = "uniform"
    random_sign: bool = False
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown distribution kind {self.kind!r}; valid kinds: {', '.join(KINDS)}")
        if not self.low < self.high:
            raise ValueError(f"distribution range [{self.low}, {self.high}] is empty or inverted")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError("a log-uniform range needs low > 0")

    def __str__(self) -> str:
        body = {
            "uniform": f"U[{self.low:g},{self.high:g}]",
            "loguniform": f"logU[{self.low:g},{self.high:g}]",
            "truncnormal": f"N({self.mean:g},{self.std:g})[{self.low:g},{self.high:g}]",
        }[self.kind]
        return f"±{body}" if self.random_sign else body

    def sample(self, u: torch.Tensor, u_sign: torch.Tensor | None = None) -> torch.Tensor:
        """Map U[0, 1) numbers ``u`` into this distribution; ``u_sign`` decides signs."""
        return sample_parameters(u, u_sign, *self.parameters(u.dtype))

    def parameters(self, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
        """(kind code, low, high, mean, std, random_sign) as scalar tensors."""
        values = (KINDS.index(self.kind), self.low, self.high, self.mean, self.std, float(self.random_sign))
        return tuple(torch.tensor(v, dtype=dtype) for v in values)


def sample_parameters(
    u: torch.Tensor,
    u_sign: torch.Tensor | None,
    kind: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    mean: torch.Tensor,
    std: torch.Tensor,
    random_sign: torch.Tensor,
) -> torch.Tensor:
    """Vectorised sampling where every element may have its own distribution.

    The parameters broadcast against ``u``; only the kinds present are computed.
    """
    kinds = set(torch.unique(kind).tolist()) if kind.numel() > 1 else {int(kind)}
    result = torch.zeros_like(u)
    # Every kind is clamped to [low, high]: at u near 1 (or a float64 u rounded to 1.0 in float32)
    # rounding put uniform and log-uniform samples one ulp beyond the upper bound.
    if 0 in kinds:
        result = torch.where(kind == 0, (low + (high - low) * u).clamp(low, high), result)
    if 1 in kinds:
        safe_low, safe_high = low.clamp_min(1e-300), high.clamp_min(1e-300)
        log_low = torch.log(safe_low)
        sample = torch.exp(log_low + (torch.log(safe_high) - log_low) * u).clamp(low, high)
        result = torch.where(kind == 1, sample, result)
    if 2 in kinds:
        a = torch.special.ndtr((low - mean) / std)
        b = torch.special.ndtr((high - mean) / std)
        z = torch.special.ndtri((a + (b - a) * u).clamp(1e-12, 1 - 1e-12))
        result = torch.where(kind == 2, (mean + std * z).clamp(low, high), result)
    if u_sign is not None:
        flip = (random_sign > 0) & (u_sign < 0.5)
        result = torch.where(flip, -result, result)
    return result
