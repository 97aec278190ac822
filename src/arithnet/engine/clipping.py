"""Gradient clipping per run: one run's large gradient never scales another's."""

from __future__ import annotations

import torch


@torch.no_grad()
def clip_gradients_(gradients, value: float | None, norm: float | None) -> None:
    """Clip each gradient (N, ...) to ±``value``, then each run's total norm to ``norm`` (None: no clip)."""
    gradients = list(gradients)
    if value is not None:
        for g in gradients:
            g.clamp_(-value, value)
    if norm is not None:
        n_runs = gradients[0].shape[0]
        squared = sum(g.reshape(n_runs, -1).square().sum(1) for g in gradients)
        # The 1e-6 of torch.nn.utils.clip_grad_norm_, which the field's code calls once per run.
        scale = (norm / (squared.sqrt() + 1e-6)).clamp(max=1.0)
        for g in gradients:
            g.mul_(scale.reshape((n_runs,) + (1,) * (g.dim() - 1)))
