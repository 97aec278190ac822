"""Penalty weights that change with the training step, for int steps and 0-d tensor steps alike.

The compiled training step passes the step as a 0-d tensor, so that
torch.compile traces one graph for every step instead of one per value; the
schedules are therefore written with torch operations only, never a Python
``if`` on the step. A Python int step gives a Python float, a tensor step a
float64 tensor on the step's device; both have the same value.

This module imports nothing from arithnet, so that anything may use it.
"""

from __future__ import annotations

import math

import torch


def _as_float64(step: int | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(step, dtype=torch.float64)


def _like_step(value: torch.Tensor, step: int | torch.Tensor) -> float | torch.Tensor:
    """A float for a Python step (what the eager trainers and the tests compare), else the tensor."""
    return value if isinstance(step, torch.Tensor) else float(value)


def ramp(step: int | torch.Tensor, scale: float, start: float, end: float) -> float | torch.Tensor:
    """λ(t) = λ̂·clip((t − start)/(end − start), 0, 1): 0 up to ``start``, λ̂ from ``end`` on.

    The ramp of the ICLR 2020 paper (Madsen & Johansen) used by NAU, NMU, NRU,
    NMRU and the modified Real NPU; a step at ``start`` when end ≤ start.
    """
    t = _as_float64(step)
    if end <= start:  # a test on the options, not on the step: the graph stays one
        weight = scale * (t >= start).to(t.dtype)
    else:
        weight = scale * torch.clamp((t - start) / (end - start), 0.0, 1.0)
    return _like_step(weight, step)


def l1_weight(step: int | torch.Tensor, start: float, end: float, growth: float, interval: int) -> float | torch.Tensor:
    """β(t) = min(β_start · growth^⌊t / interval⌋, β_end), the NPU paper's L1 schedule."""
    t = _as_float64(step)
    if start == 0.0:  # 0·growth^k stays 0; the power alone may overflow to inf and make 0·inf = NaN
        return _like_step(torch.zeros_like(t), step)
    exponent = torch.floor(t / interval)
    if growth > 1.0 and start > 0.0:
        # After this many growths β has passed β_end and the minimum holds it
        # there; capping the exponent keeps growth^k from overflowing at huge t.
        enough = math.ceil(math.log(end / start) / math.log(growth)) + 1 if end > start else 0
        exponent = exponent.clamp_max(enough)
    return _like_step((start * torch.pow(growth, exponent)).clamp_max(end), step)


def cosine(step: int | torch.Tensor, steps: int) -> float | torch.Tensor:
    """The learning rate's factor ½(1 + cos(π(t − 1)/steps)) at step t = 1 … steps: 1 at the start, near 0 at the end.

    A Python step stays in Python floats (math.cos), so eager training computes
    exactly what it always did; a tensor step stays a tensor.
    """
    if isinstance(step, torch.Tensor):
        return 0.5 * (1.0 + torch.cos(math.pi * (step - 1) / steps))
    return 0.5 * (1.0 + math.cos(math.pi * (step - 1) / steps))


def geometric_ramp(step: int | torch.Tensor, low: float, high: float, start: float, end: float) -> float | torch.Tensor:
    """λ(t): 0 before ``start``, then from ``low`` to ``high`` geometrically, ``high`` from ``end`` on.

    LawNet's pull of the exponents to the lattice: it must start far below a
    noise-free fit's loss (1e-8 in a flat valley) and end far above a noisy one's.
    """
    t = _as_float64(step)
    fraction = torch.clamp((t - start) / max(end - start, 1e-300), 0.0, 1.0)
    weight = low * (high / low) ** fraction * (t >= start).to(t.dtype)
    return _like_step(weight, step)
