"""What a training recipe is: a composition of the engine for S seeds of one operation."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any

from arithnet.data import Range
from arithnet.engine import Fit, ProgressCallback
from arithnet.operations import Operation


class Recipe(ABC):
    """A training procedure. Subclasses set the class attributes, ``settings_for`` and ``fit``."""

    name: str
    summary: str
    operations: frozenset[str]
    #: The dataclass of the recipe's settings, saved with every result.
    settings_type: type

    @abstractmethod
    def settings_for(self, operation: Operation) -> Any:
        """The recipe's settings for ``operation`` (an instance of ``settings_type``)."""

    def settings_from_dict(self, values: Any) -> Any:
        """Settings read back from a saved configuration; ValueError for unknown or missing keys."""
        names = {f.name for f in dataclasses.fields(self.settings_type)}
        if not isinstance(values, dict) or set(values) - names:
            raise ValueError(f"settings of recipe {self.name!r} must be an object with keys among {sorted(names)}")
        return self.settings_type(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def check_settings(self, settings: Any) -> None:
        """Raise ValueError when ``settings`` are not this recipe's (their own fields check their values)."""
        if not isinstance(settings, self.settings_type):
            raise ValueError(f"recipe {self.name!r} takes {self.settings_type.__name__}, not {type(settings).__name__}")

    @abstractmethod
    def default_range(self, operation: Operation) -> Range: ...

    def check(self, operation: Operation, train_range: Range) -> None:
        """Raise ValueError when the recipe cannot train ``operation`` on ``train_range``."""
        if operation.name not in self.operations:
            raise ValueError(
                f"recipe {self.name!r} trains only {', '.join(sorted(self.operations))}, not {operation.name!r}"
            )

    @abstractmethod
    def fit(self, config, keys, progress: ProgressCallback | None = None) -> Fit:
        """Train one network per stream key (S,) under the resolved TrainConfig ``config``."""
