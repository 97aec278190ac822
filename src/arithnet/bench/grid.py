"""A benchmark grid from names: what ``arithnet bench`` builds, for library users too.

``bench_grid`` turns the command's settings (names as comma-separated text or
sequences, range spans such as ``1-9``, unit options as ``NAME=VALUE`` text)
into a ``Grid``: every unit × operation × range × seed. Each (unit,
operation) is checked and resolved once (``BenchConfig.resolved``), and its
runs share that record, one per range. The command line calls nothing else
to build its grid, so a library user who passes the same settings gets the
same runs and the same result-store keys. With a paper ``preset``
(bench.protocol.presets), each (unit, operation) gets that paper's settings.

The bench's entry point, above its three rooms: it may import
``bench.protocol`` and ``bench.run`` (the limits), and none of them imports it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from arithnet.bench.protocol import (
    GRIDS,
    PRESET_TASKS,
    SETTINGS,
    BenchConfig,
    ResolvedConfig,
    Run,
    check_model,
    check_names,
    covered_operations,
    preset_settings,
)
from arithnet.bench.run import limits
from arithnet.files import finite_or_none

#: The numbered ranges (the Primer's 1 to 9): what a ``LOW-HIGH`` span may cover.
_NUMBERED = tuple(int(name) for grid in GRIDS.values() for name in grid if name.isdigit())

#: Training steps when none are given: the Primer's, by number of inputs.
STEPS_INPUT_2 = 50_000
#: Operations when none are given and no preset chooses them.
ALL_OPERATIONS = "add,sub,mul,div"
STEPS_OTHERWISE = 100_000


@dataclass(frozen=True)
class Grid:
    """The runs of one ``arithnet bench`` command.

    ``configs`` holds the resolved configuration of every (unit, operation)
    that runs (a preset runs a unit on its paper's operations only), for the
    first of ``ranges``; each range's runs get a copy for their range.
    """

    units: tuple[str, ...]
    operations: tuple[str, ...]
    ranges: tuple[str, ...]
    seeds: tuple[int, ...]
    configs: Mapping[tuple[str, str], ResolvedConfig]

    def runs(self) -> list[Run]:
        """Every run: units × operations (those in ``configs``) × ranges × seeds, in that order."""
        runs = []
        for unit in self.units:
            for operation in self.operations:
                if (unit, operation) not in self.configs:
                    continue
                for range_name in self.ranges:
                    config = replace(self.configs[unit, operation], range_name=range_name)
                    runs.extend((config, seed) for seed in self.seeds)
        return runs


def default_steps(input_size: int) -> int:
    """The Primer's training steps: 50,000 for two inputs, 100,000 otherwise."""
    return STEPS_INPUT_2 if input_size == 2 else STEPS_OTHERWISE


def split_names(names: str | Iterable[str]) -> tuple[str, ...]:
    """Names from comma-separated text or a sequence, stripped, blanks and repeats dropped, in order."""
    if isinstance(names, str):
        names = names.split(",")
    return tuple(dict.fromkeys(name.strip() for name in names if name.strip()))


def range_names(text: str | Iterable[str]) -> tuple[str, ...]:
    """Range names from 'all', grid names, 'LOW-HIGH' spans of the Primer's numbers, or names.

    Comma-separated (or a sequence of such tokens); repeats are dropped:
    ``range_names("1-3,7,iclr") == ("1", "2", "3", "7", "iclr")``. Names are
    not checked here (``BenchConfig`` does that); an inverted span such as
    ``9-1`` and a span beyond the numbered ranges (``1-100000000``) are
    ValueErrors, found before the span is expanded.
    """
    names: list[str] = []
    for token in split_names(text):
        low, dash, high = token.partition("-")
        if token == "all":
            names.extend(name for grid in GRIDS.values() for name in grid)
        elif token in GRIDS:
            names.extend(GRIDS[token])
        elif dash and low.isdigit() and high.isdigit():
            names.extend(str(i) for i in _span(token, int(low), int(high)))
        else:
            names.append(token)
    return tuple(dict.fromkeys(names))


def _span(token: str, low: int, high: int) -> range:
    """The numbers of a ``LOW-HIGH`` span, its bounds checked before anything is expanded."""
    if low > high:
        raise ValueError(f"range {token} is inverted: write {high}-{low}")
    first, last = min(_NUMBERED), max(_NUMBERED)
    if low < first or high > last:
        raise ValueError(f"range span {token} goes beyond the numbered ranges, which are {first}-{last}")
    return range(low, high + 1)


def _is_plain_literal(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_is_plain_literal(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str))


def parse_unit_options(texts: str | Iterable[str]) -> tuple[tuple[str, object], ...]:
    """``NAME=VALUE`` texts as (name, value) pairs, e.g. ``regularization_start=20000``.

    VALUE is a Python literal: a number, True, False, None, a quoted string
    (``gate_gradient='clamp'``) or a tuple of these (``init_out=(0.0, 0.0)``).
    Anything else, and a name given twice, is a ValueError naming the option.
    """
    if isinstance(texts, str):
        texts = [texts]
    options: dict[str, object] = {}
    for text in texts:
        name, separator, value_text = (part.strip() for part in text.partition("="))
        if not separator or not name.isidentifier():
            raise ValueError(f"unit option {text!r} must be NAME=VALUE, e.g. regularization_start=20000")
        if name in options:
            raise ValueError(f"unit option {name} is given twice")
        try:
            value = ast.literal_eval(value_text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = ...
        if value is ... or not _is_plain_literal(value):
            raise ValueError(
                f"unit option {name}={value_text}: {value_text!r} is not a number, True, False, None, "
                f"a quoted string or a tuple of these; quote a string: {name}='{value_text}'"
            )
        options[name] = value
    return tuple(options.items())


def _unit_options(options: Mapping[str, Any] | Iterable[str] | Iterable[tuple[str, Any]]) -> tuple:
    if isinstance(options, Mapping):
        return tuple(options.items())
    options = [options] if isinstance(options, str) else list(options)
    if all(isinstance(option, str) for option in options):
        return parse_unit_options(options)
    return tuple((name, value) for name, value in options)


def bench_grid(
    units: str | Sequence[str],
    ops: str | Sequence[str] | None = None,
    task: str | None = None,
    input_size: int | None = None,
    ranges: str | Sequence[str] | None = None,
    seeds: int = 25,
    first_seed: int = 0,
    steps: int | None = None,
    preset: str | None = None,
    **options: Any,
) -> Grid:
    """The grid of ``arithnet bench``: units × ops × ranges × seeds first_seed … first_seed + seeds − 1.

    ``units``, ``ops`` and ``ranges`` are comma-separated text or sequences;
    ``ops`` defaults to the four operations, or with a preset to the ones it
    runs each unit on (``presets.covered_operations``); ranges go through
    ``range_names`` (``"primer"``, ``"1-9"``, …). ``task``,
    ``input_size`` and ``ranges`` default to primer, 2 and primer (or the
    preset's); ``steps`` to ``default_steps(input_size)``. Further keyword
    arguments are ``BenchConfig`` fields (``lr``, ``loss``, ``lr_schedule``,
    ``dtype``, ``force``, ``device``, …); ``unit_options`` may be a mapping,
    (name, value) pairs or ``NAME=VALUE`` texts (see ``parse_unit_options``).

    ``preset`` ("primer", "iclr", "division"; bench.protocol.presets) fills every
    setting of each (unit, operation) from the paper's table; what the caller
    passes explicitly wins: a setting that is not None, ``force=True``, and
    each unit option by name. A unit, task, input size or operation the
    preset does not cover is a ValueError naming it.

    Every name is checked first (``names.check_names``: every unknown one in
    one line), then every (unit, operation), once: a bad option or
    combination, a value that strict JSON cannot store, a size beyond
    ``bench.run.limits`` (checked before anything is built from it) or a run
    too big for this machine's memory is a ValueError with one line naming it.
    """
    default_task, default_size, default_ranges = PRESET_TASKS.get(preset, ("primer", 2, "primer"))
    unit_list, op_list = split_names(units), split_names(ops if ops is not None else ALL_OPERATIONS)
    range_list = range_names(ranges if ranges is not None else default_ranges)
    named = {name: options.get(name) for name in SETTINGS if name not in ("task", "preset")}
    check_names(unit_list, op_list, range_list, {**named, "task": task, "preset": preset}, _option_names(options))
    task = task if task is not None else default_task
    input_size = input_size if input_size is not None else default_size
    pairs = _pairs(unit_list, None if ops is None and preset is not None else op_list, preset, task, input_size)
    op_list = tuple(dict.fromkeys(operation for _, operation in pairs))
    for what, names in (("unit", unit_list), ("operation", op_list), ("range", range_list)):
        if not names:
            raise ValueError(f"no {what} given: name at least one")
    given = _given_settings(options, steps)
    _check_sizes(len(unit_list), len(op_list), len(range_list), seeds, first_seed, given.get("steps"), input_size)
    configs = _resolved_configs(pairs, preset, task, input_size, range_list[0], given)
    return Grid(unit_list, op_list, range_list, tuple(range(first_seed, first_seed + seeds)), configs)


def _option_names(options: dict[str, Any]) -> list[str]:
    """The unit options' names, to check with the other names first (a malformed option is refused later)."""
    try:
        return [name for name, _ in _unit_options(options.get("unit_options") or ())]
    except ValueError:
        return []


def _resolved_configs(pairs, preset: str | None, task: str, input_size: int, range_name: str, given: dict) -> dict:
    """The checked, resolved configuration of each (unit, operation): the preset's settings (if any) and the caller's.

    Checked here, in the process that plans the grid, so that nothing is refused in a worker.
    """
    configs = {}
    for unit, operation in pairs:
        fields = _run_settings(preset, unit, operation, task, input_size, given)
        config = BenchConfig(unit=unit, operation=operation, range_name=range_name, **fields)
        limits.check_at_most("the number of steps", config.steps, limits.MAX_STEPS)
        limits.check_memory(config)
        resolved = config.resolved()
        check_strict_json(resolved)  # what is not the user's (a unit's defaults) is finite
        check_model(resolved)  # the unit options' values: only building a unit and its rules checks them
        configs[unit, operation] = resolved
    return configs


def _pairs(units, operations, preset: str | None, task: str, input_size: int) -> list[tuple[str, str]]:
    """(unit, operation) pairs: every unit × operation, or with ``operations`` None each unit's preset operations."""
    if operations is not None:
        return [(unit, operation) for unit in units for operation in operations]
    return [(unit, op) for unit in units for op in covered_operations(preset, unit, task, input_size)]


def _given_settings(options: dict[str, Any], steps: int | None) -> dict[str, Any]:
    """The settings the caller gave: None (and force=False) count as not given."""
    given = {name: value for name, value in options.items() if value is not None}
    if given.get("force") is False:
        del given["force"]
    if steps is not None:
        given["steps"] = steps
    if "unit_options" in given:
        given["unit_options"] = _unit_options(given["unit_options"])
    if given.get("device") is not None:
        from arithnet.devices import check_device

        given["device"] = check_device(given["device"])
    return given


def _run_settings(preset: str | None, unit: str, operation: str, task: str, input_size: int, given: dict) -> dict:
    """BenchConfig fields of one (unit, operation): the preset's (if any), overridden by the caller's."""
    settings: dict[str, Any] = {"task": task, "input_size": input_size, "steps": default_steps(input_size)}
    if preset is not None:
        settings.update(preset_settings(preset, unit, task, input_size, operation))
    options = dict(settings.get("unit_options", ()))
    options.update(given.get("unit_options", ()))
    return {**settings, **given, "unit_options": tuple(options.items())}


def _check_sizes(n_units: int, n_ops: int, n_ranges: int, seeds: int, first_seed: int, steps, input_size) -> None:
    """Counts and sizes within their limits (bench.run.limits), before anything is built from them."""
    if seeds < 1:
        raise ValueError(f"number of seeds must be at least 1, got {seeds}")
    if first_seed < 0:
        raise ValueError(f"the first seed must be at least 0, got {first_seed}")
    limits.check_grid_size(n_units, n_ops, n_ranges, seeds)
    if first_seed + seeds > limits.SEED_LIMIT:
        last = first_seed + seeds - 1
        raise ValueError(f"seed numbers must be below 2**32 = {limits.SEED_LIMIT:,}; the last would be {last:,}")
    if isinstance(steps, int):  # a non-integer is refused with its own message by BenchConfig
        limits.check_at_most("the number of steps", steps, limits.MAX_STEPS)
    if isinstance(input_size, int):
        limits.check_at_most("the input size", input_size, limits.MAX_INPUT_SIZE)


def _non_finite(value: object) -> bool:
    """Whether ``value`` is, or holds, a float that strict JSON cannot write (it would become null)."""
    return finite_or_none(value) != value


def check_strict_json(config: ResolvedConfig) -> None:
    """Refuse settings that strict JSON cannot hold (NaN, ±Infinity): every row stores its configuration as JSON."""
    for name, value in asdict(config).items():
        if name == "unit_options":
            for option, option_value in value:
                if _non_finite(option_value):
                    raise ValueError(f"unit option {option}={option_value!r} is not a finite number")
        elif _non_finite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
