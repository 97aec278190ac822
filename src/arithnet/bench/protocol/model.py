"""The network a benchmark run trains: one unit, or a stack of two (the ICLR task), built from a configuration.

Building is kept here, out of the configurations: a ``BenchConfig`` checks the
names of its unit options (``check_option_names``, cheap); only building a
unit and its training rules checks their values, which ``check_model`` does
once per (unit, operation) of a grid, in the process that plans it, and
``run_group`` does where the networks are trained. A unit option is the
constructor's or, for the units that train with rules (iNALU's restarts,
RatioNet's snap; ``arithnet.training.rules``), a rule's: the constructor gets
its own (``unit_options``), the rules theirs (``training_rules``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from arithnet.engine.callbacks import Callback
from arithnet.training.rules import rule_options, training_rules, unit_options
from arithnet.units import Stack, Unit, get_unit


def unit_names(name: str) -> list[str]:
    """The unit names of ``name``: one, or two joined by '>' (a stack)."""
    names = name.split(">")
    if len(names) > 2 or not all(names):
        raise ValueError(f"unit {name!r} must be one unit name or two joined by '>', e.g. NAU>NMU")
    return names


def takes_option(cls: type[Unit], name: str) -> bool:
    """Whether the unit's constructor (its options are keyword-only) or its training rules take the option ``name``."""
    if name in rule_options(cls):
        return True
    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return True
    return name in parameters and parameters[name].kind is inspect.Parameter.KEYWORD_ONLY


def check_option_names(unit: str, options: Iterable[tuple[str, Any]]) -> None:
    """ValueError unless every unit of ``unit`` is known and each option is taken by one of its layers."""
    names = unit_names(unit)
    classes = [get_unit(name).cls for name in names]
    for option, _ in options:
        if not any(takes_option(cls, option) for cls in classes):
            takers = f"neither {names[0]} nor {names[1]} takes" if len(names) == 2 else f"{names[0]} takes no option"
            raise ValueError(f"bad unit option for {unit}: {takers} {option!r}")


def build_model(config, n_networks: int) -> Unit:
    """The unit (or stack) of ``config`` (a BenchConfig or ResolvedConfig) with ``n_networks`` networks.

    As in the ICLR reference code, both layers of a stack get the options: each layer those it takes.
    """
    check_option_names(config.unit, config.unit_options)  # a stack would drop an option neither layer takes
    names = unit_names(config.unit)
    options = dict(config.unit_options)
    try:
        if len(names) == 1:
            spec = get_unit(names[0])
            return spec.build(config.input_size, 1, n_networks, **unit_options(spec.cls, options))
        first, second = get_unit(names[0]), get_unit(names[1])
        first_options = {name: value for name, value in options.items() if takes_option(first.cls, name)}
        second_options = {name: value for name, value in options.items() if takes_option(second.cls, name)}
        hidden = first.build(config.input_size, config.hidden, n_networks, **unit_options(first.cls, first_options))
        return Stack(hidden, second.build(config.hidden, 1, n_networks, **unit_options(second.cls, second_options)))
    except TypeError as error:  # an option the unit does not take
        raise ValueError(f"bad unit option for {config.unit}: {error}") from None


def model_rules(config, unit: Unit) -> list[Callback]:
    """The training rules of ``unit``, a model of ``config``, built from its unit options (engine callbacks)."""
    return training_rules(unit, dict(config.unit_options))


def check_model(config) -> None:
    """Build one network of ``config`` and its training rules: each checks its options' values as it is built.

    So a bad value, the unit's or a rule's, is refused where a grid is planned, in one line, and not in a worker.
    """
    model_rules(config, build_model(config, 1))
