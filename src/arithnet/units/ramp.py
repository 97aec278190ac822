"""The ramped regularizer weight λ(t) of the ICLR 2020 units, a mixin for the units that use it."""

from __future__ import annotations

import torch

from arithnet.schedules import ramp


class RampedRegularization:
    """λ(t) rising from 0 at ``regularization_start`` to ``regularization_scale`` at ``regularization_end``.

    Mixed into NAU, NMU, NRU, NMRU and RealNPU before ``Unit``; ``_set_ramp``
    checks and keeps the three settings, ``ramp_weight`` gives λ at a step.
    """

    regularization_scale: float
    regularization_start: int
    regularization_end: int

    def _set_ramp(self, scale: float, start: int, end: int) -> None:
        if end < start:
            raise ValueError("regularization_end must not come before regularization_start")
        self.regularization_scale = scale
        self.regularization_start = start
        self.regularization_end = end

    def ramp_weight(self, step: int | torch.Tensor) -> float | torch.Tensor:
        """λ(t) of the unit's ramped regularizer at ``step``: a float for an int step, else a tensor."""
        return ramp(step, self.regularization_scale, self.regularization_start, self.regularization_end)
