"""A benchmark run's settings: what is asked (``BenchConfig``) and every choice made (``ResolvedConfig``).

``BenchConfig`` is what a caller asks for, up to the run's seed: options left
None take the unit's paper values. Its checks are cheap (names, numbers and
option names), so that a grid can make many. ``BenchConfig.resolved`` makes
every choice once — the unit's learning rate and clipping, the compile
decision, ``force`` only where it is needed — and returns a
``ResolvedConfig``, the record everything downstream reads: the run's key, its
group, the engine's settings and the configuration stored with its row.
``bench_grid`` resolves each (unit, operation) of a grid once; its runs share
that record.

**The key.** A run's key is a hash of its resolved record but for the fields
marked ``execution`` (device, compile: a grid resumed on another device or
without compiling is the same grid), of its seed and of ``KEY_VERSION``, which
is a field of the hashed text. Nothing else enters it, so two records that
differ in any other field are two runs. When the meaning of a key changes,
``KEY_VERSION`` goes up and the results store re-keys its rows (bench.run.keys).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from arithnet.bench.protocol.model import check_option_names, unit_names
from arithnet.bench.protocol.presets import PRESETS, forced
from arithnet.bench.protocol.tasks import get_range
from arithnet.checks import check_count, check_positive
from arithnet.devices import known_device
from arithnet.engine import EngineConfig, check_loss
from arithnet.engine.compiler import should_compile
from arithnet.engine.config import SCHEDULES
from arithnet.operations import get_operation
from arithnet.units import get_unit

TASKS = ("primer", "iclr")
DTYPES = ("float32", "float64")
#: The losses of the bench: "mse", the field's; "log", (Re z − log|t|)² + (cos Im z − sign t)²
#: for units that compute y = Re exp(z) (LogExp), arithnet's loss for ÷ and ×; "projected",
#: the error with the unit's linear weights solved for each batch (RatioNet, docs/moonshot.md).
BENCH_LOSSES = ("mse", "log", "projected")
#: The ICLR task's ε-perfect thresholds: simulated with the task's 25-element subsets, or with
#: the 26 of the ICLR authors' R script, with which the published numbers come out (thresholds.py).
THRESHOLD_SUBSETS = ("task", "published")
#: The version of ``ResolvedConfig.key``: 1 was the keys of results stores of schema 1 (bench.run.keys).
KEY_VERSION = 2
#: Field metadata of an execution choice: stored with a row, but not part of the run's identity (its key).
EXECUTION = {"execution": True}


@dataclass(frozen=True)
class BenchFields:
    """The fields of a benchmark run's settings, but its seed; ``BenchConfig`` says what each means."""

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
    device: str = field(default="cpu", metadata=EXECUTION)
    compile: bool | None = field(default=None, metadata=EXECUTION)
    preset: str | None = None
    log_step_zero: bool = False
    threshold_subsets: str = "task"


@dataclass(frozen=True)
class BenchConfig(BenchFields):
    """One benchmark run as asked, but for its seed. ``None`` options take the unit's paper values.

    ``unit`` may name two units, ``"NAU>NMU"``: a stack with a hidden layer of
    ``hidden`` units (the ICLR task); each unit option reaches every layer
    that takes it (bench.protocol.model). ``force`` runs a unit on an
    operation it cannot represent. A clipping value of 0 means no clipping
    (None: the unit's paper's). ``preset`` names the paper preset the
    settings came from (bench.protocol.presets; reports select rows by it);
    ``log_step_zero`` also evaluates the untrained model;
    ``threshold_subsets`` picks the ICLR task's ε-perfect thresholds
    (``THRESHOLD_SUBSETS``). Every field is checked here, but the values of
    unit options, which only building the unit and its training rules can
    check (``model.check_model``, called by ``bench_grid``).
    """

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
        check_option_names(self.unit, self.unit_options)
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        known_device(self.device)
        self._check_training(operation.name)

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

    def _check_training(self, operation: str) -> None:
        """The schedule and loss known and fit for the (last) unit, and the operation one it represents."""
        last = unit_names(self.unit)[-1]
        spec = get_unit(last)
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {self.lr_schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.loss not in BENCH_LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; valid losses: {', '.join(BENCH_LOSSES)}")
        check_loss(self.loss, spec.cls)
        if operation not in spec.operations and not self.force:
            can = ", ".join(sorted(spec.operations)) or "none of the four operations"
            raise ValueError(
                f"unit {last} cannot represent {operation} exactly (it represents: {can}); "
                "pass force=True (--force on the command line) to run it anyway"
            )

    def resolved(self) -> ResolvedConfig:
        """Every choice made: the unit's learning rate and clipping, the compile decision, ``force`` where needed.

        The first layer's learning rate, the last layer's clipping (the
        paper's for the variant as built: NMRU-vanilla's is none, NMRU's a
        norm of 1). ``force`` is kept only where it is needed: a unit that
        represents the operation trains alike forced or not, so it is the
        same run (one key, one group).
        """
        first, last = get_unit(unit_names(self.unit)[0]), get_unit(unit_names(self.unit)[-1])
        clip_value, clip_norm = last.cls.training_clipping({**last.options, **dict(self.unit_options)})
        choices = {
            "lr": self.lr if self.lr is not None else first.default_lr,
            "clip_grad_value": self.clip_grad_value if self.clip_grad_value is not None else clip_value,
            "clip_grad_norm": self.clip_grad_norm if self.clip_grad_norm is not None else clip_norm,
            "compile": should_compile(self.compile, self.steps),
            "force": needs_force(self.unit, self.operation, self.force),
        }
        return ResolvedConfig(**{**_values(self), **choices})


@dataclass(frozen=True)
class ResolvedConfig(BenchFields):
    """A benchmark run's settings with every choice made (``BenchConfig.resolved``): what the run is.

    It is not checked again: make one by resolving a ``BenchConfig``, or by
    reading a stored configuration (``from_json``). ``replace`` on it is cheap,
    which is how a grid makes one record per range from its (unit, operation)'s.
    """

    def identity(self) -> dict[str, Any]:
        """The fields that make the run what it is: all but the execution choices."""
        values = asdict(self)
        return {f.name: values[f.name] for f in fields(self) if not f.metadata.get("execution")}

    def key(self, seed: int) -> str:
        """The run's key: a hash of its identity, its seed and the key's version (see the module's docstring)."""
        text = json.dumps({**self.identity(), "key_version": KEY_VERSION, "seed": seed}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def group_key(self) -> tuple:
        """Configurations with equal group keys can share one tensor program: they differ in range only."""
        return tuple(sorted((k, str(v)) for k, v in asdict(self).items() if k != "range_name"))

    def engine_config(self) -> EngineConfig:
        """The engine's settings for this run."""
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

    def to_json(self) -> str:
        """The configuration stored with the run's row: every field, execution choices included."""
        return json.dumps(asdict(self), sort_keys=True, default=str, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> ResolvedConfig:
        """The record of a stored configuration (``to_json``); fields it lacks (stored before they existed) default.

        ValueError if it is not a JSON object of this record's fields.
        """
        values = json.loads(text)
        names = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or not set(values) <= names or not {"unit", "operation"} <= set(values):
            raise ValueError("not a stored benchmark configuration")
        return cls(**{name: _tuples(value) for name, value in values.items()})


#: A run: its resolved configuration and its seed.
Run = tuple[ResolvedConfig, int]


def needs_force(unit: str, operation: str, force: bool) -> bool:
    """``force`` where it is needed: asked for, and the (last) unit cannot represent the operation."""
    return force and forced(unit, get_operation(operation).name)


def resolve(config: BenchConfig | ResolvedConfig) -> ResolvedConfig:
    """``config`` resolved; a ``ResolvedConfig`` already is, and is returned as it is."""
    return config if isinstance(config, ResolvedConfig) else config.resolved()


def _values(config: BenchFields) -> dict[str, Any]:
    """The fields' values as they are (``asdict`` would copy the unit options)."""
    return {f.name: getattr(config, f.name) for f in fields(config)}


def _tuples(value: Any) -> Any:
    """JSON arrays back as the tuples they were stored from (unit options and their tuple values)."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
