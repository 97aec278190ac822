"""Initial weights drawn either from torch's global generator or per seed.

A unit's ``reset_parameters`` asks a ``Sampler`` for numbers. Without seed
numbers the sampler uses torch's global generator, like ``torch.nn.init``.
With seed numbers it draws each seed's weights from that seed's own
counter-based stream (:mod:`arithnet.random`), so seed 7 starts from the same
weights whether it is trained alone or among 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from arithnet import random as counter_random


class Sampler:
    """Source of initial values; ``keys`` (N,) selects per-seed streams."""

    def __init__(self, keys: torch.Tensor | None = None) -> None:
        self.keys = keys
        self._calls = 0

    def _uniform01(self, shape: Sequence[int]) -> torch.Tensor:
        if self.keys is None:
            return torch.rand(tuple(shape), dtype=torch.float64)
        self._calls += 1
        return counter_random.uniform(self.keys, counter_random.Stream.INIT, self._calls, shape)

    def uniform_(self, parameter: torch.Tensor, low: float, high: float) -> None:
        """Fill with U[low, high]; ``parameter`` has the seed dimension in front if any."""
        shape = parameter.shape if self.keys is None else parameter.shape[1:]
        values = low + (high - low) * self._uniform01(shape)
        with torch.no_grad():
            parameter.copy_(values.reshape(parameter.shape))

    def normal_(self, parameter: torch.Tensor, mean: float, std: float) -> None:
        """Fill with N(mean, std**2), by the Box-Muller transform."""
        shape = parameter.shape if self.keys is None else parameter.shape[1:]
        radius = torch.sqrt(-2.0 * torch.log1p(-self._uniform01(shape)))  # 1 - u lies in (0, 1]
        values = radius * torch.cos(2.0 * math.pi * self._uniform01(shape))
        with torch.no_grad():
            parameter.copy_((mean + std * values).reshape(parameter.shape))

    def constant_(self, parameter: torch.Tensor, value: float) -> None:
        with torch.no_grad():
            parameter.fill_(value)
