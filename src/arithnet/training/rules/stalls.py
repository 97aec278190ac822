"""iNALU's stall tests, as pure functions of the losses since a run's last restart (training.rules.inalu uses them).

Shape letters: T losses, R runs of equal losses (a run's count, mean and
summed squared deviation), ... any leading dimensions (the training runs).
"""

from __future__ import annotations

import torch


def loss_stalled(losses: torch.Tensor, window: int, loss_threshold: float) -> torch.Tensor:
    """iNALU's stall test on the last ``window`` losses (..., T), oldest first → (...) bool.

    Stalled: the first half's mean is at most the second half's mean plus
    the second half's (population) standard deviation, i.e. no clear progress,
    and the second half's mean is above ``loss_threshold``. Fewer than ``window`` losses, or a NaN
    among them, never count as stalled (every comparison with NaN is False).
    """
    if losses.shape[-1] < window:
        return torch.zeros(losses.shape[:-1], dtype=torch.bool, device=losses.device)
    recent = losses[..., -window:]
    first, second = recent[..., : window // 2], recent[..., window // 2 :]
    second_mean = second.mean(-1)
    return (first.mean(-1) <= second_mean + second.std(-1, correction=0)) & (second_mean > loss_threshold)


def run_halves(count: torch.Tensor, mean: torch.Tensor, m2: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Mean of the first half, mean and population std of the second, and n, of runs (..., R).

    The losses since a restart are stored as runs, oldest first: run r holds
    ``count`` losses of mean ``mean`` and summed squared deviation ``m2``. The
    list of n losses splits as numpy slices it: the first n // 2, then the
    rest. A run cut by the split must be constant (m2 = 0; the Primer's
    logged MSE is), so its part keeps its mean; the second half's variance
    then combines the runs' parts exactly (Chan et al.'s pairwise formula).
    """
    # Runs a restart emptied may hold an old NaN: count 0 must weigh nothing.
    mean = torch.where(count > 0, mean, torch.zeros_like(mean))
    m2 = torch.where(count > 0, m2, torch.zeros_like(m2))
    n = count.sum(-1)
    before = count.cumsum(-1) - count
    first = (torch.div(n, 2, rounding_mode="floor").unsqueeze(-1) - before).clamp(min=0).minimum(count)
    second = count - first
    n_first, n_second = first.sum(-1), second.sum(-1)
    first_mean = (first * mean).sum(-1) / n_first
    second_mean = (second * mean).sum(-1) / n_second
    share = torch.where(count > 0, second / count.clamp(min=1), torch.zeros_like(count))
    deviation = torch.where(second > 0, mean - second_mean.unsqueeze(-1), torch.zeros_like(mean))
    second_var = (share * m2 + second * deviation.square()).sum(-1) / n_second
    return first_mean, second_mean, second_var.sqrt(), n


def runs_stalled(count, mean, m2, min_losses: int, loss_threshold: float) -> torch.Tensor:
    """iNALU's stall rule on the losses since the last restart, stored as runs (..., R) → (...) bool.

    More than ``min_losses`` losses, first half's mean ≤ second half's mean +
    its std, and second half's mean > ``loss_threshold``; NaN never stalls.
    """
    first_mean, second_mean, second_std, n = run_halves(count, mean, m2)
    return (n > min_losses) & (first_mean <= second_mean + second_std) & (second_mean > loss_threshold)
