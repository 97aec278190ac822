"""arithnet's own recipe: every seed solved in a fraction of a second.

Each choice, and the measurement behind it, is in docs/recipes.md
(benchmarks/recipe_ablation.py switches them off one at a time):

- loss in log space for LogExp ((Re z − log|t|)² plus a sign term): the error
  of exp(z) explodes with z, the error of z does not;
- W_in ≥ 0 (LogExp): h = W_in·x never crosses the logarithm's singularity;
- several starts per seed, the best kept early: single starts of ÷ and ×
  end in local minima (6% and 48% of seeds). Every start is drawn from the
  seed's own stream, so a seed's result depends on its number alone;
- log-uniform inputs, Adam with a cosine decay to 0, float64: the weights are
  polished to ~1e-12, far below the 1e-6 tolerance of "solved".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from arithnet.checks import check_at_most, check_count, check_flag, check_positive
from arithnet.data import BatchStream, Range
from arithnet.engine import EngineConfig, Fit, Problem, ProgressCallback
from arithnet.engine import fit as engine_fit
from arithnet.operations import Operation, get_operation
from arithnet.training.config import MAX_STEPS
from arithnet.training.polish import polish_, verification_inputs
from arithnet.training.recipes.base import Recipe
from arithnet.units import UNITS, LogParts, Unit


@dataclass(frozen=True)
class DefaultSettings:
    """The default recipe's settings for one operation (docs/recipes.md gives the reason for each)."""

    steps: int = 600
    batch_size: int = 32
    lr: float = 0.2
    n_starts: int = 8
    select_at: int = 50
    select_window: int = 20
    log_uniform: bool = True
    dtype: str = "float64"
    #: Train on x / s, s the range's geometric-mean magnitude with its sign: every range looks like one around ±1.
    scale_inputs: bool = True
    #: LogExp only, with scale_inputs: train on (x / s)^k, k = 1 / (the range's half-width in log space).
    log_power: bool = True
    #: Snap the weights to a simple candidate and keep it where it verifies exactly (training.polish).
    snap_readout: bool = True
    # LogExp only:
    log_space_loss: bool = True
    nonnegative_in: bool = True
    init_in: tuple[float, float] = (0.5, 1.5)
    init_out: tuple[float, float] = (-1.0, 1.0)
    #: LogExp's floor on |h|: the field's 1e-7 would read every input of a range like [1e-8, 1e-7] as 1e-7.
    eps: float = 1e-300

    def __post_init__(self) -> None:
        """Every field within bounds, so that settings read from a file cannot ask for more than the command line."""
        for name in ("steps", "batch_size", "n_starts", "select_at", "select_window"):
            check_count(name.replace("_", " "), getattr(self, name))
        check_at_most("settings.steps", self.steps, MAX_STEPS)
        if self.select_window > self.select_at:
            raise ValueError(
                f"settings.select_window must be at most settings.select_at ({self.select_at}), "
                f"got {self.select_window}: the starts are compared over the window's steps before select_at"
            )
        check_positive("learning rate", self.lr)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        for name in ("log_uniform", "scale_inputs", "log_power", "snap_readout", "log_space_loss", "nonnegative_in"):
            check_flag(f"settings.{name}", getattr(self, name))
        for name in ("init_in", "init_out"):
            _check_interval(f"settings.{name}", getattr(self, name))
        if not _is_number(self.eps) or not 0 <= self.eps < math.inf:
            raise ValueError(f"settings.eps must be a finite number of at least 0, got {self.eps!r}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_interval(name: str, value: object) -> None:
    """A pair (low, high) of finite numbers, low ≤ high; ValueError naming ``name`` otherwise."""
    pair = tuple(value) if isinstance(value, tuple | list) else ()
    if len(pair) != 2 or not all(_is_number(end) and math.isfinite(end) for end in pair) or pair[0] > pair[1]:
        raise ValueError(f"{name} must be a finite interval (low, high), got {value!r}")


SETTINGS = {
    "add": DefaultSettings(),
    "sub": DefaultSettings(),
    "mul": DefaultSettings(steps=1000, batch_size=64, lr=0.05, n_starts=16, select_at=100, log_uniform=False),
    "div": DefaultSettings(),
}


class DefaultRecipe(Recipe):
    name = "default"
    summary = "arithnet's recipe: Adam, log-space loss, 8 starts per seed, float64"
    operations = frozenset({"add", "sub", "mul", "div"})
    settings_type = DefaultSettings

    def __init__(self, settings: dict[str, DefaultSettings] | None = None) -> None:
        self.settings = settings or SETTINGS

    def settings_for(self, operation: Operation) -> DefaultSettings:
        return self.settings[operation.name]

    def default_range(self, operation: Operation) -> Range:
        return Range(0.1, 10.0)

    def check(self, operation: Operation, train_range: Range) -> None:
        super().check(operation, train_range)
        if operation.divides and train_range.contains_zero:
            raise ValueError(
                f"the {self.name!r} recipe cannot train {operation.name} on {train_range}: the range holds zero, "
                "which would be a denominator; choose a range on one side of zero, e.g. 0.1,10"
            )

    @staticmethod
    def build(operation: Operation, n_networks: int, settings: DefaultSettings, device: str = "cpu") -> Unit:
        spec = UNITS[operation.network]
        options = {}
        if issubclass(spec.cls, LogParts):
            options = {
                "nonnegative_in": settings.nonnegative_in,
                "init_in": settings.init_in,
                "init_out": settings.init_out,
                "eps": settings.eps,
            }
        return spec.build(2, 1, n_networks, **options).to(getattr(torch, settings.dtype)).to(device)

    @staticmethod
    def engine_config(operation: Operation, config) -> EngineConfig:
        settings: DefaultSettings = config.settings
        log_loss = issubclass(UNITS[operation.network].cls, LogParts) and settings.log_space_loss
        return EngineConfig(
            steps=config.steps,
            lr=settings.lr,
            loss="log" if log_loss else "relative",
            lr_schedule="cosine",
            n_starts=settings.n_starts if config.steps > settings.select_at else 1,
            select_at=settings.select_at,
            select_window=settings.select_window,
            n_snapshots=config.n_snapshots,
            compile=config.compile,
        )

    def fit(self, config, keys: torch.Tensor, progress: ProgressCallback | None = None) -> Fit:
        operation = get_operation(config.operation)
        settings: DefaultSettings = config.settings
        log_uniform = settings.log_uniform and not config.train_range.contains_zero
        batches = BatchStream(keys, config.train_range, (settings.batch_size, 2), log_uniform)
        scale = input_scale(config.train_range) if settings.scale_inputs else 1.0
        powered = settings.scale_inputs and settings.log_power and issubclass(UNITS[operation.network].cls, LogParts)
        power = log_power(config.train_range) if powered else 1.0

        def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            x = (batches.batch(step) / scale) ** power
            x = x.to(getattr(torch, settings.dtype)).to(config.device)
            return x, operation.target(x)

        problem = Problem(keys, lambda n: self.build(operation, n, settings, config.device), batch)
        fit = engine_fit(problem, self.engine_config(operation, config), progress)
        if settings.snap_readout:
            x = verification_inputs(keys, config.train_range, settings.log_uniform)
            fit.extras["verified"] = polish_(
                fit.unit, operation, x.to(getattr(torch, settings.dtype)).to(config.device)
            )
        return fit


def log_power(train_range: Range) -> float:
    """k with log|x / s|^k spread over [−1, 1]: the range's half-width in log space, inverted.

    For a network of products and powers (LogExp) a power of the inputs is an
    exact symmetry where it matters: with each hidden unit reading one input,
    the weights fitting (x^k, op(x^k)) also fit (x, op(x)) for a monomial op.
    So [1.1, 1.2], [3.3, 3.4] and [1e-6, 1e3] all train like [1/e, e]. A range
    holding zero has no log width: k = 1.
    """
    if train_range.contains_zero:
        return 1.0
    half_width = 0.5 * abs(math.log(abs(train_range.high) / abs(train_range.low)))
    return 1.0 / half_width


def input_scale(train_range: Range) -> float:
    """s with x / s spread around ±1: the geometric mean of the ends' magnitudes, with the range's sign.

    The series' networks are homogeneous (W x, W_out (W_in x)², and x0/x1 once
    W_out sums to 0), so weights learned on (x / s, op(x / s)) are the weights
    for (x, op(x)). A range holding zero has no geometric mean: s is its largest magnitude.
    """
    if train_range.contains_zero:
        return train_range.magnitude
    sign = 1.0 if train_range.low > 0 else -1.0
    return sign * math.sqrt(abs(train_range.low) * abs(train_range.high))
