"""The registry: every unit by name, built from the unit classes and their variants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arithnet.units.base import Unit


@dataclass(frozen=True)
class UnitSpec:
    """A registry entry: a unit class and the options that make its variant."""

    name: str
    cls: type[Unit]
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, in_features: int, out_features: int, n_seeds: int | None = None, **overrides: Any) -> Unit:
        return self.cls(in_features, out_features, n_seeds=n_seeds, **{**self.options, **overrides})

    @property
    def operations(self) -> frozenset[str]:
        return self.cls.operations

    @property
    def default_lr(self) -> float:
        return self.cls.default_lr


def build_registry(*classes: type[Unit]) -> dict[str, UnitSpec]:
    """One entry per class under its ``name``, plus one per declared variant."""
    registry: dict[str, UnitSpec] = {}
    for cls in classes:
        for name, options in {cls.name: {}, **cls.variants}.items():
            if name in registry:
                raise ValueError(f"unit name {name!r} is registered twice")
            registry[name] = UnitSpec(name, cls, dict(options))
    return registry
