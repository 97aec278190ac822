"""RatioNet's snapping of near-integer weights after every step: an engine callback, not a part of the unit.

Where every weight of an output's u, v and p lies within ``snap_tolerance``
of an integer, all three are set to those integers. The u solved from float32
targets is off by about 1e-6, which alone puts the ICLR task's test MSE above
the ÷ threshold (4.9e-12): snapped, float32 weights reach the ε-perfect
thresholds (docs/moonshot.md; ``snap_tolerance=0`` is its ablation).
"""

from __future__ import annotations

import torch

from arithnet.engine.callbacks import Callback
from arithnet.units import RatioNet, Unit, layers


def integers_near(value: torch.Tensor, tolerance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest integers to ``value`` and whether each lies within ``tolerance`` of them."""
    rounded = value.round()
    return rounded, (value - rounded).abs() <= tolerance


@torch.no_grad()
def snap_(weight_num: torch.Tensor, weight_den: torch.Tensor, power: torch.Tensor, tolerance: float) -> None:
    """Set (u, v, p) of an output to integers, in place, where every weight of the three lies within ``tolerance``.

    All three or none, so that the linear start (p = 0 while v is still dense)
    is not held at p = 0. u must be snapped too, not only v and p (module docstring).
    """
    num, num_close = integers_near(weight_num, tolerance)
    den, den_close = integers_near(weight_den, tolerance)
    integer, power_close = integers_near(power, tolerance)
    close = num_close.all(-1) & den_close.all(-1) & power_close
    weight_num.copy_(torch.where(close[..., None], num, weight_num))
    weight_den.copy_(torch.where(close[..., None], den, weight_den))
    power.copy_(torch.where(close, integer, power))


class RatioSnap(Callback):
    """After every step (and RatioNet's ``project_``), snap each RatioNet of the model (``snap_``)."""

    def __init__(self, snap_tolerance: float = 0.02) -> None:
        self.snap_tolerance = snap_tolerance

    def after_step(self, unit: Unit, step: int) -> None:
        for layer in layers(unit):
            if isinstance(layer, RatioNet):
                snap_(layer.weight_num, layer.weight_den, layer.power, self.snap_tolerance)


def ratio_snap(unit: Unit, *, snap_tolerance: float = 0.02) -> list[Callback]:
    """The snapping RatioNet trains with; none for ``snap_tolerance=0`` (the benchmark's unit option)."""
    return [RatioSnap(snap_tolerance)] if snap_tolerance > 0 else []
