"""The field's benchmark protocol, run for many (range, seed) pairs as one tensor program.

One ``BenchConfig`` describes a run up to its seed. ``run_group`` trains a
list of (config, seed) pairs that differ only in range and seed, all at once:
every network has its own weights, input distributions, target indices,
thresholds and random streams, so a run's row does not depend on which other
runs shared its group.

The protocol (nalm.md, "Benchmark protocols"): a fresh batch of 128 every
step, MSE loss plus the unit's regulariser, Adam, the unit's projection after
each step; every ``log_every`` steps the validation (interpolation) and test
(extrapolation) MSE on fixed sets of 10,000 samples. The best step is the
logged step with the lowest validation MSE; a run is solved under a
criterion when the test MSE at that step is below the criterion's threshold;
"solved at" is the first logged step whose test MSE is below it.

It is a composition of the training engine (arithnet.engine): the data come
from bench.data, the measurements from bench.measure. Shape letters: N
networks (runs), B batch, I inputs.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch

from arithnet import random as counter_random
from arithnet.bench.data import GroupData
from arithnet.bench.measure import mse, read_formulas, sparsity_errors
from arithnet.bench.presets import PRESETS
from arithnet.bench.rows import CRITERIA, RunRow
from arithnet.bench.tasks import get_range
from arithnet.checks import check_count, check_positive
from arithnet.devices import known_device
from arithnet.engine import EngineConfig, Problem, check_loss
from arithnet.engine import fit as engine_fit
from arithnet.engine.compiler import should_compile
from arithnet.engine.config import SCHEDULES
from arithnet.operations import get_operation
from arithnet.training.rules import rule_options, training_rules, unit_options
from arithnet.units import Stack, Unit, get_unit

TASKS = ("primer", "iclr")
DTYPES = ("float32", "float64")
#: The losses of the bench: "mse", the field's; "log", (Re z − log|t|)² + (cos Im z − sign t)²
#: for units that compute y = Re exp(z) (LogExp), arithnet's loss for ÷ and ×; "projected",
#: the error with the unit's linear weights solved for each batch (RatioNet, docs/moonshot.md).
LOSSES = ("mse", "log", "projected")
#: Execution choices: stored with a row, but not part of its identity (key),
#: so that a grid resumed on another device or without compiling is the same grid.
_EXECUTION = ("device", "compile")
#: Fields added after rows were first stored, with their defaults: left out of a run's key
#: while at the default, so stores written before them keep their keys (and resume).
_LATER_FIELDS = {"preset": None, "log_step_zero": False, "threshold_subsets": "task"}
#: The ICLR task's ε-perfect thresholds: simulated with the task's 25-element subsets, or with
#: the 26 of the ICLR authors' R script, with which the published numbers come out (thresholds.py).
THRESHOLD_SUBSETS = ("task", "published")


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark run, but for its seed. ``None`` options take the unit's paper values.

    ``unit`` may name two units, ``"NAU>NMU"``: a stack with a hidden layer of
    ``hidden`` units (the ICLR task); each unit option reaches every layer
    that takes it (``build_model``). ``force`` runs a unit on an operation it
    cannot represent. A clipping value of 0 means no clipping (None: the
    unit's paper's). ``preset`` names the paper preset the settings came from
    (bench.presets; reports select rows by it); ``log_step_zero`` also
    evaluates the untrained model; ``threshold_subsets`` picks the ICLR
    task's ε-perfect thresholds (``THRESHOLD_SUBSETS``).
    """

    unit: str
    operation: str
    task: str = "primer"
    input_size: int = 2
    range_name: str = "7"
    steps: int = 50_000
    batch_size: int = 128
    lr: float | None = None
    log_every: int = 1_000
    n_valid: int = 10_000
    n_test: int = 10_000
    dtype: str = "float32"
    hidden: int = 2
    clip_grad_value: float | None = None
    clip_grad_norm: float | None = None
    unit_options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    loss: str = "mse"
    lr_schedule: str = "constant"
    force: bool = False
    device: str = "cpu"
    compile: bool | None = None
    preset: str | None = None
    log_step_zero: bool = False
    threshold_subsets: str = "task"

    def __post_init__(self) -> None:
        operation = get_operation(self.operation)
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; valid tasks: {', '.join(TASKS)}")
        get_range(self.range_name)
        if self.task == "primer" and self.input_size < 2:
            raise ValueError(f"input size must be at least 2, got {self.input_size}")
        if self.task == "iclr" and self.input_size < 38:
            raise ValueError(f"the ICLR task needs at least 38 inputs, got {self.input_size}")
        for name, value in (("steps", self.steps), ("batch size", self.batch_size), ("log interval", self.log_every)):
            check_count(name, value)
        check_positive("learning rate", self.lr, allow_none=True)
        self._check_later_fields()
        training_rules(build_model(self, 1), dict(self.unit_options))  # a bad option fails here, not in a worker
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        known_device(self.device)
        last = unit_names(self.unit)[-1]
        spec = get_unit(last)
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {self.lr_schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; valid losses: {', '.join(LOSSES)}")
        check_loss(self.loss, spec.cls)
        if operation.name not in spec.operations and not self.force:
            can = ", ".join(sorted(spec.operations)) or "none of the four operations"
            raise ValueError(
                f"unit {last} cannot represent {operation.name} exactly (it represents: {can}); "
                "pass force=True (--force on the command line) to run it anyway"
            )

    def _check_later_fields(self) -> None:
        for name, value in (("gradient clip value", self.clip_grad_value), ("gradient clip norm", self.clip_grad_norm)):
            if value != 0:  # 0: no clipping
                check_positive(name, value, allow_none=True)
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; valid presets: {', '.join(PRESETS)}")
        if not isinstance(self.log_step_zero, bool):
            raise ValueError(f"log_step_zero must be True or False, got {self.log_step_zero!r}")
        if self.threshold_subsets not in THRESHOLD_SUBSETS:
            valid = ", ".join(THRESHOLD_SUBSETS)
            raise ValueError(f"unknown threshold_subsets {self.threshold_subsets!r}; valid: {valid}")
        if self.threshold_subsets != "task" and self.task != "iclr":
            raise ValueError(f"threshold_subsets={self.threshold_subsets!r} applies to the iclr task only")

    def resolved(self) -> BenchConfig:
        """The configuration with the unit's learning rate, clipping and the compile decision filled in.

        ``force`` is kept only where it is needed: a unit that represents the
        operation trains alike forced or not, so it is the same run (one key, one group).
        """
        first = get_unit(unit_names(self.unit)[0])
        last = get_unit(unit_names(self.unit)[-1])
        # The paper's clipping for the variant as built (NMRU-vanilla's is none, NMRU's a norm of 1).
        clip_value, clip_norm = last.cls.training_clipping({**last.options, **dict(self.unit_options)})
        return replace(
            self,
            lr=self.lr if self.lr is not None else first.default_lr,
            clip_grad_value=self.clip_grad_value if self.clip_grad_value is not None else clip_value,
            clip_grad_norm=self.clip_grad_norm if self.clip_grad_norm is not None else clip_norm,
            compile=should_compile(self.compile, self.steps),
            force=self.force and get_operation(self.operation).name not in last.operations,
        )

    def key(self, seed: int) -> str:
        """The run's identity: its resolved configuration but for execution choices, and its seed."""
        return self.stored_keys(seed)[0]

    def stored_keys(self, seed: int) -> tuple[str, ...]:
        """The keys the run may be stored under: its key, then for a run forced needlessly the key it had so.

        Before ``resolved`` dropped a needless ``force``, a run's key held
        whatever ``force`` was given, so the same run had two keys; a store
        written then may hold it under the second.
        """
        settings = {k: v for k, v in asdict(self.resolved()).items() if k not in _EXECUTION}
        settings = {k: v for k, v in settings.items() if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}
        if len(unit_names(self.unit)) == 2 and self.unit_options:
            settings["stack_options"] = "every layer"  # they reached the second layer only before
        variants = [settings] if settings["force"] else [settings, {**settings, "force": True}]
        texts = [json.dumps({**variant, "seed": seed}, sort_keys=True, default=str) for variant in variants]
        return tuple(hashlib.sha256(text.encode()).hexdigest()[:24] for text in texts)

    def engine_config(self) -> EngineConfig:
        """The engine's settings for this (resolved) configuration."""
        return EngineConfig(
            steps=self.steps,
            lr=self.lr,
            loss=self.loss,
            lr_schedule=self.lr_schedule,
            clip_grad_value=self.clip_grad_value or None,  # 0: no clipping
            clip_grad_norm=self.clip_grad_norm or None,
            log_every=self.log_every,
            progress_every=self.log_every,
            compile=bool(self.compile),
            log_step_zero=self.log_step_zero,
        )

    def group_key(self) -> tuple:
        """Configurations with equal group keys can share one tensor program."""
        return tuple(sorted((k, str(v)) for k, v in asdict(self.resolved()).items() if k != "range_name"))

    def to_json(self) -> str:
        return json.dumps(asdict(self.resolved()), sort_keys=True, default=str, allow_nan=False)


def unit_names(name: str) -> list[str]:
    names = name.split(">")
    if len(names) > 2 or not all(names):
        raise ValueError(f"unit {name!r} must be one unit name or two joined by '>', e.g. NAU>NMU")
    return names


def build_model(config: BenchConfig, n_networks: int) -> Unit:
    names = unit_names(config.unit)
    options = dict(config.unit_options)
    try:
        return _build(names, config, n_networks, options)
    except TypeError as error:  # an option the unit does not take
        raise ValueError(f"bad unit option for {config.unit}: {error}") from None


def _build(names: list[str], config: BenchConfig, n_networks: int, options: dict) -> Unit:
    if len(names) == 1:
        spec = get_unit(names[0])
        return spec.build(config.input_size, 1, n_networks, **unit_options(spec.cls, options))
    # As in the ICLR reference code, both layers get the options: each layer those it takes.
    first, second = get_unit(names[0]), get_unit(names[1])
    for name in options:
        if not (takes_option(first.cls, name) or takes_option(second.cls, name)):
            raise ValueError(f"bad unit option for {config.unit}: neither {names[0]} nor {names[1]} takes {name!r}")
    first_options = {name: value for name, value in options.items() if takes_option(first.cls, name)}
    second_options = {name: value for name, value in options.items() if takes_option(second.cls, name)}
    hidden = first.build(config.input_size, config.hidden, n_networks, **unit_options(first.cls, first_options))
    return Stack(hidden, second.build(config.hidden, 1, n_networks, **unit_options(second.cls, second_options)))


def takes_option(cls: type[Unit], name: str) -> bool:
    """Whether the unit's constructor (its options are keyword-only) or its training rules take the option ``name``."""
    if name in rule_options(cls):
        return True
    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return True
    return name in parameters and parameters[name].kind is inspect.Parameter.KEYWORD_ONLY


def run_group(
    configs: Sequence[BenchConfig],
    seeds: Sequence[int],
    thresholds: Callable[[str, BenchConfig], float],
    progress: Callable[[int], None] | None = None,
) -> list[RunRow]:
    """Train the runs (configs[i], seeds[i]) together and return one row each.

    All configurations must share their group key (they may differ in range).
    ``thresholds(criterion, config)`` gives the success threshold of a run.
    ``progress`` is called with the number of steps done after each log.
    """
    configs = [c.resolved() for c in configs]
    head = configs[0]
    if any(c.group_key() != head.group_key() for c in configs):
        raise ValueError("runs in one group must differ only in range and seed")
    start_time = time.perf_counter()
    dtype = getattr(torch, head.dtype)
    pairs = [get_range(c.range_name) for c in configs]
    operation = get_operation(head.operation)
    data = GroupData(head.task, head.input_size, seeds, pairs, operation, dtype, head.device, bool(head.compile))
    valid_set, test_set = data.fixed_set("valid", head.n_valid), data.fixed_set("test", head.n_test)
    limits = {c: torch.tensor([thresholds(c, cfg) for cfg in configs], dtype=torch.float64) for c in CRITERIA}
    solved_at = SolvedAt(limits)
    problem = Problem(
        keys=counter_random.stream_keys(list(seeds)),
        build=lambda n: build_model(head, n).to(dtype).to(head.device),
        batch=lambda step: data.batch(step, head.batch_size),
        evaluate=lambda unit: {"valid": mse(unit, *valid_set), "test": mse(unit, *test_set)},
        callbacks=lambda unit: training_rules(unit, dict(head.unit_options)),
    )
    fit = engine_fit(problem, head.engine_config(), progress, on_log=solved_at.update)
    unit = fit.unit.cpu()
    measured = {
        "best_step": fit.best.step.cpu(),
        "best_val_mse": fit.best.valid.cpu(),
        "best_test_mse": fit.best.metrics["test"].cpu(),
        "sparsity_error": sparsity_errors(unit, len(configs)),
    }
    formulas = read_formulas(unit, get_operation(head.operation), head.input_size, data.masks)
    seconds = (time.perf_counter() - start_time) / len(configs)
    return [
        make_row(config, int(seed), i, measured, limits, solved_at.steps, formulas[i], seconds)
        for i, (config, seed) in enumerate(zip(configs, seeds))
    ]


class SolvedAt:
    """The first logged step whose test MSE is below each criterion's threshold, per run (-1: never)."""

    def __init__(self, limits: dict[str, torch.Tensor]) -> None:
        self.limits = limits
        self.steps = {c: torch.full(limit.shape, -1, dtype=torch.int64) for c, limit in limits.items()}

    def update(self, step: int, metrics: dict[str, torch.Tensor]) -> None:
        test = metrics["test"].cpu()
        for c, limit in self.limits.items():
            first = (self.steps[c] < 0) & (test < limit)
            self.steps[c] = torch.where(first, step, self.steps[c])


def make_row(config, seed, i, measured, limits, solved_at, formula, seconds) -> RunRow:
    """The stored row of run ``i`` of a group."""
    best_test = float(measured["best_test_mse"][i])
    solved = {c: best_test < float(limits[c][i]) for c in CRITERIA}
    first = {c: int(solved_at[c][i]) if solved_at[c][i] >= 0 else None for c in CRITERIA}
    return RunRow(
        key=config.key(seed),
        unit=config.unit,
        operation=config.operation,
        task=config.task,
        range_name=config.range_name,
        seed=seed,
        steps=config.steps,
        config=config.to_json(),
        best_step=int(measured["best_step"][i]),
        best_val_mse=float(measured["best_val_mse"][i]),
        best_test_mse=best_test,
        **{f"threshold_{c}": float(limits[c][i]) for c in CRITERIA},
        **{f"solved_{c}": solved[c] for c in CRITERIA},
        **{f"solved_at_{c}": first[c] for c in CRITERIA},
        sparsity_error=float(measured["sparsity_error"][i]),
        formula=formula[0],
        formula_exact=formula[1],
        seconds=seconds,
    )
