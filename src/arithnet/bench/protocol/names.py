"""Every name a benchmark grid is given, checked at once, before anything else.

A typo must not hide behind another refusal: ``--units NAU,NAC*,NAUU --ops
add`` names NAUU, not NAC*'s need for ``--force``, and a command with several
unknown names (units, operations, ranges, task, preset, loss, schedule, dtype,
device, unit options) hears of all of them in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from arithnet.bench.protocol.config import BENCH_LOSSES, DTYPES, TASKS
from arithnet.bench.protocol.model import takes_option, unit_names
from arithnet.bench.protocol.presets import PRESETS
from arithnet.bench.protocol.tasks import GRIDS
from arithnet.devices import DEVICES
from arithnet.engine.config import SCHEDULES
from arithnet.operations import OPERATIONS
from arithnet.units import UNITS

#: Each named setting: its word in a message, the plural that introduces the valid names (or None), and those.
SETTINGS = {
    "task": ("task", "tasks", TASKS),
    "preset": ("preset", "presets", PRESETS),
    "loss": ("loss", "losses", BENCH_LOSSES),
    "lr_schedule": ("learning-rate schedule", None, SCHEDULES),
    "dtype": ("dtype", None, DTYPES),
    "device": ("device", "devices", DEVICES),
}


def check_names(
    units: Sequence[str],
    ops: Sequence[str],
    ranges: Sequence[str],
    settings: Mapping[str, Any],
    options: Iterable[str] = (),
) -> None:
    """ValueError with one line naming every unknown name of a grid, each with the valid ones.

    ``units`` (each one name or two joined by ``>``), ``ops`` and ``ranges``
    (expanded: ``grid.range_names``) are the grid's names; ``settings`` maps
    the keys of ``SETTINGS`` to the names given (None: not given); ``options``
    are unit option names, each of which every known unit of the grid must take.
    """
    problems, parts = [], []
    for unit in units:
        try:
            parts.append(unit_names(unit))
        except ValueError as error:
            problems.append(str(error))
    problems.append(unknown("unit", [name for names in parts for name in names], UNITS, "units"))
    problems.append(unknown("operation", ops, OPERATIONS, "operations"))
    problems.append(unknown("range", ranges, [name for grid in GRIDS.values() for name in grid], "ranges"))
    for setting, (word, plural, valid) in SETTINGS.items():
        if settings.get(setting) is not None:
            problems.append(unknown(word, [settings[setting]], valid, plural))
    known = [names for names in parts if all(name in UNITS for name in names)]
    problems += [_option_problem(option, known) for option in dict.fromkeys(options)]
    problems = [problem for problem in problems if problem]
    if problems:
        raise ValueError("; ".join(problems))


def unknown(what: str, names: Iterable[str], valid: Iterable[str], plural: str | None = None) -> str:
    """``unknown unit 'X'; valid units: A, B`` for the names not in ``valid`` ("" if none), all in one phrase."""
    valid = list(valid)
    missing = [name for name in dict.fromkeys(names) if name not in valid]
    if not missing:
        return ""
    label = plural if len(missing) > 1 and plural else what
    listed = ", ".join(repr(name) for name in missing)
    return f"unknown {label} {listed}; valid{' ' + plural if plural else ''}: {', '.join(valid)}"


def _option_problem(option: str, units: list[list[str]]) -> str:
    """Which units of the grid do not take the unit option ``option`` ("" if all do); a stack's layers share it."""
    refusing = [">".join(names) for names in units if not any(takes_option(UNITS[n].cls, option) for n in names)]
    if not refusing:
        return ""
    takes = "takes" if len(refusing) == 1 else "take"
    return f"unit option {option}: {', '.join(refusing)} {takes} no option {option!r}"
