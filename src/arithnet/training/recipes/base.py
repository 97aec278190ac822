"""What a training recipe is: how it builds, initialises and trains S seeds at once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch

from arithnet.data import Range
from arithnet.operations import Operation
from arithnet.training.history import History
from arithnet.units import Unit

#: Called with the number of steps done so far.
ProgressCallback = Callable[[int], None]


@dataclass
class Fit:
    """What a recipe hands back: the trained networks (S seeds) and their record."""

    unit: Unit
    initial: dict[str, torch.Tensor]  # each parameter at step 0, (S, *shape)
    history: History


class Recipe(ABC):
    """A training procedure. Subclasses set the class attributes and ``fit``."""

    name: str
    summary: str
    operations: frozenset[str]
    default_steps: int

    def steps_for(self, operation: Operation) -> int:
        """The recipe's number of steps for ``operation``."""
        return self.default_steps

    @abstractmethod
    def default_range(self, operation: Operation) -> Range: ...

    def check(self, operation: Operation, train_range: Range) -> None:
        """Raise ValueError when the recipe cannot train ``operation`` on ``train_range``."""
        if operation.name not in self.operations:
            raise ValueError(
                f"recipe {self.name!r} trains only {', '.join(sorted(self.operations))}, not {operation.name!r}"
            )

    @abstractmethod
    def fit(
        self,
        operation: Operation,
        keys: torch.Tensor,
        steps: int,
        train_range: Range,
        n_snapshots: int,
        progress: ProgressCallback | None = None,
    ) -> Fit:
        """Train one network per stream key (S,) and return them with their history."""
