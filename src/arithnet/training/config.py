"""The configuration of one training command, saved with its result."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from arithnet.data import Range
from arithnet.operations import get_operation


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; seeds first_seed … first_seed + n_seeds − 1.

    ``steps`` and ``train_range`` left as None take the recipe's own values.
    """

    operation: str = "div"
    recipe: str = "default"
    n_seeds: int = 100
    first_seed: int = 0
    steps: int | None = None
    train_range: Range | None = None
    n_snapshots: int = 200

    def __post_init__(self) -> None:
        get_operation(self.operation)
        if self.n_seeds < 1:
            raise ValueError(f"number of seeds must be at least 1, got {self.n_seeds}")
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"number of steps must be at least 1, got {self.steps}")
        if self.first_seed < 0 or self.first_seed + self.n_seeds > 2**32:
            raise ValueError(f"seeds must lie in [0, 2**32), got first seed {self.first_seed}")
        if self.n_snapshots < 2:
            raise ValueError(f"number of snapshots must be at least 2, got {self.n_snapshots}")

    @property
    def seeds(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.n_seeds))

    def to_dict(self) -> dict:
        return asdict(self)
