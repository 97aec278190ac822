"""Training rules: how some units are trained beyond the loss, the regularizer and their projection.

Each rule is an engine callback (``arithnet.engine.callbacks``), kept apart
from the unit it trains, so that a unit is its maths:

- iNALU's restarts of stalled runs, under the paper's, the Primer's or the TF
  code's rule (``inalu.InaluRestarts``);
- RatioNet's snapping of near-integer weights (``snap.RatioSnap``).

``RULES`` says which unit class trains with which rules; ``training_rules``
builds a model's rules from the options it was given, which the benchmark
passes as unit options (``--unit-option restart_rule=primer``):
``rule_options`` names the options a unit's rules take, ``unit_options`` the
rest, which the unit's constructor takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from arithnet.engine.callbacks import Callback
from arithnet.training.rules.inalu import InaluRestarts, inalu_restarts
from arithnet.training.rules.snap import RatioSnap, ratio_snap
from arithnet.units import INALU, RatioNet, Unit, layers

#: Builds a model's rules from the rule's keyword-only options: ``factory(unit, **options)``.
RuleFactory = Callable[..., list[Callback]]
#: The rules each unit class trains with, wherever it sits in a model.
RULES: dict[type[Unit], RuleFactory] = {INALU: inalu_restarts, RatioNet: ratio_snap}


def rule_options(cls: type[Unit]) -> frozenset[str]:
    """The options the training rules of unit class ``cls`` take (none for most units)."""
    return frozenset(
        name
        for ruled, factory in RULES.items()
        if issubclass(cls, ruled)
        for name, parameter in inspect.signature(factory).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


def unit_options(cls: type[Unit], options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` without those of the unit's training rules: what the unit's constructor is given."""
    ruled = rule_options(cls)
    return {name: value for name, value in options.items() if name not in ruled}


def training_rules(unit: Unit, options: Mapping[str, Any] | None = None) -> list[Callback]:
    """The rules for ``unit`` (a unit or a stack), each built once from the options it takes.

    A stack of two iNALUs has one restart rule: the stack restarts as one.
    """
    options = dict(options or {})
    rules: list[Callback] = []
    for ruled, factory in RULES.items():
        if any(isinstance(layer, ruled) for layer in layers(unit)):
            taken = rule_options(ruled)
            rules += factory(unit, **{name: value for name, value in options.items() if name in taken})
    return rules


__all__ = [
    "RULES",
    "InaluRestarts",
    "RatioSnap",
    "inalu_restarts",
    "ratio_snap",
    "rule_options",
    "training_rules",
    "unit_options",
]
