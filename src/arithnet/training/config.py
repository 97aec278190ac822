"""The configuration of one training command, saved with its result and enough to run it again."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from arithnet.checks import check_at_most, check_count
from arithnet.data import Range
from arithnet.devices import known_device
from arithnet.operations import get_operation

#: The most seeds one command trains: 100,000 seeds of the 8-start ÷ network
#: are about 2 GB of weights, snapshots and Adam moments.
MAX_SEEDS = 100_000
#: The most steps of one training (as for ``arithnet bench``).
MAX_STEPS = 10_000_000
#: A saved configuration may ask for no more than the command line can: its largest
#: training is 100,000 seeds of ×'s 16 starts, each start a batch of 64 inputs per step,
#: keeping 200 snapshots per seed.
MAX_NETWORKS = MAX_SEEDS * 16
MAX_STEP_INPUTS = MAX_NETWORKS * 64
MAX_SNAPSHOTS = 10_000
MAX_SNAPSHOTS_KEPT = MAX_SEEDS * 200


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; seeds first_seed … first_seed + n_seeds − 1.

    ``steps``, ``train_range`` and ``settings`` left as None take the recipe's
    own values; ``resolved()`` fills them in, and that is what a result saves.
    ``settings`` is the recipe's settings dataclass (e.g. DefaultSettings).
    ``compile`` None lets the engine decide (compiled from 20,000 steps on).
    """

    operation: str = "div"
    recipe: str = "default"
    n_seeds: int = 100
    first_seed: int = 0
    steps: int | None = None
    train_range: Range | None = None
    n_snapshots: int = 200
    settings: Any = None
    device: str = "cpu"
    compile: bool | None = None

    def __post_init__(self) -> None:
        from arithnet.training.recipes import get_recipe

        get_operation(self.operation)
        recipe = get_recipe(self.recipe)
        if self.settings is not None and not isinstance(self.settings, recipe.settings_type):
            # A dict or another recipe's settings would fail only inside training, after outputs were prepared.
            raise ValueError(
                f"settings of recipe {self.recipe!r} must be a {recipe.settings_type.__name__}, "
                f"got {type(self.settings).__name__}"
            )
        check_count("number of seeds", self.n_seeds)
        if self.n_seeds > MAX_SEEDS:
            raise ValueError(f"number of seeds must be at most {MAX_SEEDS:,}, got {self.n_seeds:,}")
        if self.steps is not None:
            check_count("number of steps", self.steps)
            check_at_most("steps", self.steps, MAX_STEPS)
        check_count("first seed", self.first_seed, minimum=0)
        if self.first_seed + self.n_seeds > 2**32:
            raise ValueError(f"seeds must lie in [0, 2**32), got first seed {self.first_seed}")
        check_count("number of snapshots", self.n_snapshots, minimum=2)
        check_at_most("n_snapshots", self.n_snapshots, MAX_SNAPSHOTS)
        if self.train_range is not None and not isinstance(self.train_range, Range):
            raise ValueError(f"train_range must be a Range, e.g. Range(0.1, 10), got {self.train_range!r}")
        known_device(self.device)
        if self.compile is not None and not isinstance(self.compile, bool):
            raise ValueError(f"compile must be true, false or null, got {self.compile!r}")
        self._check_sizes(recipe)

    def _check_sizes(self, recipe) -> None:
        """What the seeds, starts, batch and snapshots ask of memory together: no more than the command line can."""
        settings = self.settings if self.settings is not None else recipe.settings_for(get_operation(self.operation))
        n_starts, batch = getattr(settings, "n_starts", 1), getattr(settings, "batch_size", 1)
        networks = self.n_seeds * n_starts
        starts = f"{self.n_seeds:,} seeds × {n_starts:,} starts"
        check_at_most(starts, networks, MAX_NETWORKS, " networks (n_seeds × settings.n_starts)")
        inputs = f"{networks:,} networks × a batch of {batch:,}"
        fields = "n_seeds × settings.n_starts × settings.batch_size"
        check_at_most(inputs, networks * batch, MAX_STEP_INPUTS, f" inputs per step ({fields})")
        snapshots = f"{self.n_seeds:,} seeds × {self.n_snapshots:,} snapshots"
        kept = self.n_seeds * self.n_snapshots
        check_at_most(snapshots, kept, MAX_SNAPSHOTS_KEPT, " snapshots kept (n_seeds × n_snapshots)")

    @property
    def seeds(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.n_seeds))

    def resolved(self) -> TrainConfig:
        """This configuration with the recipe's steps, range and settings filled in."""
        from arithnet.training.recipes import get_recipe

        recipe = get_recipe(self.recipe)
        operation = get_operation(self.operation)
        settings = self.settings if self.settings is not None else recipe.settings_for(operation)
        return dataclasses.replace(
            self,
            settings=settings,
            steps=self.steps or settings.steps,
            train_range=self.train_range or recipe.default_range(operation),
        )

    def to_dict(self) -> dict:
        """Plain JSON-ready values: the range as [low, high], the settings as a dict."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.train_range is not None:
            data["train_range"] = [self.train_range.low, self.train_range.high]
        if self.settings is not None:
            data["settings"] = dataclasses.asdict(self.settings)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> TrainConfig:
        """The configuration ``to_dict`` wrote; ValueError for anything else."""
        from arithnet.training.recipes import get_recipe

        if not isinstance(data, dict):
            raise ValueError(f"a training configuration is a JSON object, not {type(data).__name__}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown or "operation" not in data:
            problem = f"unknown keys {', '.join(sorted(unknown))}" if unknown else "no 'operation'"
            raise ValueError(f"not an arithnet training configuration ({problem})")
        values = dict(data)
        if values.get("train_range") is not None:
            values["train_range"] = Range(*_pair(values["train_range"]))
        if values.get("settings") is not None:
            values["settings"] = get_recipe(values.get("recipe", "default")).settings_from_dict(values["settings"])
        return cls(**values)


def _pair(value: Any) -> tuple[float, float]:
    if isinstance(value, dict):
        value = [value.get("low"), value.get("high")]
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(isinstance(v, int | float) for v in value):
        raise ValueError(f"train_range must be [low, high], got {value!r}")
    return float(value[0]), float(value[1])
