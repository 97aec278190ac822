"""Weight and loss snapshots every k steps: memory fixed, whatever the step count."""

from __future__ import annotations

import math

import torch
from torch import nn


class History:
    """Keeps at most ``n_snapshots`` snapshots of every parameter and of the loss.

    The snapshot interval is ``ceil(steps / (n_snapshots - 1))``, so memory
    is O(1) in the number of steps. The loss snapshot is the mean loss of the
    steps since the previous one. Shape letters: T snapshots, N networks.
    """

    def __init__(self, unit: nn.Module, steps: int, n_snapshots: int) -> None:
        self.every = max(1, math.ceil(steps / (n_snapshots - 1)))
        self.steps: list[int] = []
        self.weights: dict[str, list[torch.Tensor]] = {name: [] for name, _ in unit.named_parameters()}
        self.loss: list[torch.Tensor] = []
        self._loss_sum: torch.Tensor | None = None
        self._loss_count = 0

    def record(self, step: int, unit: nn.Module, loss: torch.Tensor | None, final: bool = False) -> None:
        """Call after every step with that step's per-network loss (N,)."""
        if loss is not None:
            loss = loss.detach()
            self._loss_sum = loss.clone() if self._loss_sum is None else self._loss_sum + loss
            self._loss_count += 1
        if step % self.every and not final:
            return
        if self.steps and self.steps[-1] == step:
            return
        self.steps.append(step)
        for name, parameter in unit.named_parameters():
            self.weights[name].append(parameter.detach().clone())
        if self._loss_sum is None:
            # On the parameters' device: the snapshots are stacked with the losses of other steps.
            nan = torch.full(parameter.shape[:1], float("nan"), dtype=torch.float64, device=parameter.device)
            self.loss.append(nan)
        else:
            self.loss.append((self._loss_sum / self._loss_count).double())
        self._loss_sum, self._loss_count = None, 0

    def select(self, index: torch.Tensor) -> None:
        """Keep only the networks ``index`` (N,) → (S,), after choosing among candidates."""
        for name, snapshots in self.weights.items():
            self.weights[name] = [snapshot[index] for snapshot in snapshots]
        self.loss = [value[index] for value in self.loss]
        if self._loss_sum is not None:
            self._loss_sum = self._loss_sum[index]

    def stacked_weights(self) -> dict[str, torch.Tensor]:
        """Each parameter as a tensor (T, S, *shape)."""
        return {name: torch.stack(snapshots) for name, snapshots in self.weights.items()}

    def stacked_loss(self) -> torch.Tensor:
        """Loss (T, S)."""
        return torch.stack(self.loss)
