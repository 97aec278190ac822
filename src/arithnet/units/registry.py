"""The registry: every unit by name, built from the unit classes and their variants."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import torch

from arithnet.units.base import Unit


@dataclass(frozen=True)
class UnitSpec:
    """A registry entry: a unit class and the options that make its variant."""

    name: str
    cls: type[Unit]
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, in_features: int, out_features: int, n_seeds: int | None = None, **overrides: Any) -> Unit:
        return self.cls(in_features, out_features, n_seeds, **{**self.options, **overrides})

    def exact_solution(self, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """The class's ``exact_solution`` for this variant: passes on the options it takes (LogExp's ``mixing``)."""
        taken = inspect.signature(self.cls.exact_solution).parameters
        options = {name: value for name, value in self.options.items() if name in taken}
        return self.cls.exact_solution(operation, in_features, **options)

    @property
    def operations(self) -> frozenset[str]:
        return self.cls.operations

    @property
    def default_lr(self) -> float:
        return self.cls.default_lr

    @property
    def grad_clip_value(self) -> float | None:
        """The paper's gradient value clipping for this variant (``Unit.training_clipping``)."""
        return self.cls.training_clipping(self.options)[0]

    @property
    def grad_clip_norm(self) -> float | None:
        """The paper's gradient norm clipping for this variant: None for NMRU-vanilla, 1 for NMRU."""
        return self.cls.training_clipping(self.options)[1]


def build_registry(*classes: type[Unit]) -> dict[str, UnitSpec]:
    """One entry per class under its ``name``, plus one per declared variant."""
    registry: dict[str, UnitSpec] = {}
    for cls in classes:
        for name, options in {cls.name: {}, **cls.variants}.items():
            if name in registry:
                raise ValueError(f"unit name {name!r} is registered twice")
            registry[name] = UnitSpec(name, cls, dict(options))
    return registry
