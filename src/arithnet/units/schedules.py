"""Regularisation schedules shared by the units."""

from __future__ import annotations


def ramp(step: int, scale: float, start: float, end: float) -> float:
    """λ(t) = λ̂·clip((t − start)/(end − start), 0, 1): 0 up to ``start``, λ̂ from ``end`` on.

    The ramp of the ICLR 2020 paper (Madsen & Johansen) used by NAU, NMU, NRU,
    NMRU and the modified Real NPU; a step at ``start`` when end ≤ start.
    """
    if end <= start:
        return scale if step >= start else 0.0
    return scale * min(max((step - start) / (end - start), 0.0), 1.0)
