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

Shape letters: N networks (runs), B batch, I inputs, T logged losses.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import sympy
import torch

from arithnet import random as counter_random
from arithnet.bench.distributions import sample_parameters
from arithnet.bench.rows import CRITERIA, RunRow
from arithnet.bench.tasks import RangePair, get_range
from arithnet.formula import judge, rounded_formula
from arithnet.operations import get_operation
from arithnet.training.adam import Adam
from arithnet.units import Stack, Unit, get_unit
from arithnet.units.init import Sampler

TASKS = ("primer", "iclr")
#: "mse": the field's loss. "log": (Re z − log|t|)² + (cos Im z − sign t)² for
#: units that compute y = Re exp(z) (LogExp), arithnet's loss for ÷ and ×.
LOSSES = ("mse", "log")
#: "constant": the field's. "cosine": decay to 0 over the run, arithnet's.
SCHEDULES = ("constant", "cosine")
_DATA_STREAM = 5
_INDEX_SALT = 7919
_CHUNK = 8  # steps of training inputs drawn at once
_EVAL_CHUNK = 2_000  # samples per evaluation chunk


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark run, but for its seed. ``None`` options take the unit's paper values.

    ``unit`` may name two units, ``"NAU>NMU"``: a stack with a hidden layer of
    ``hidden`` units (the ICLR task). ``force`` runs a unit on an operation
    it cannot represent.
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
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        build_model(self, 1)  # a bad unit option fails here, not in a worker
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        last = unit_names(self.unit)[-1]
        spec = get_unit(last)
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {self.lr_schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; valid losses: {', '.join(LOSSES)}")
        if self.loss == "log" and not hasattr(spec.cls, "log_parts"):
            raise ValueError(f"the log-space loss needs a unit with log_parts (LogExp), not {last}")
        if operation.name not in spec.operations and not self.force:
            can = ", ".join(sorted(spec.operations)) or "none of the four operations"
            raise ValueError(
                f"unit {last} cannot represent {operation.name} exactly (it represents: {can}); "
                "pass force=True (--force on the command line) to run it anyway"
            )

    def resolved(self) -> BenchConfig:
        """The configuration with the unit's learning rate and clipping filled in."""
        first = get_unit(unit_names(self.unit)[0])
        last = get_unit(unit_names(self.unit)[-1])
        return replace(
            self,
            lr=self.lr if self.lr is not None else first.default_lr,
            clip_grad_value=self.clip_grad_value if self.clip_grad_value is not None else last.cls.grad_clip_value,
            clip_grad_norm=self.clip_grad_norm if self.clip_grad_norm is not None else last.cls.grad_clip_norm,
        )

    def key(self, seed: int) -> str:
        """The run's identity: its resolved configuration and seed."""
        text = json.dumps({**asdict(self.resolved()), "seed": seed}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def group_key(self) -> tuple:
        """Configurations with equal group keys can share one tensor program."""
        return tuple(sorted((k, str(v)) for k, v in asdict(self.resolved()).items() if k != "range_name"))

    def to_json(self) -> str:
        return json.dumps(asdict(self.resolved()), sort_keys=True, default=str)


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
        return get_unit(names[0]).build(config.input_size, 1, n_networks, **options)
    first = get_unit(names[0]).build(config.input_size, config.hidden, n_networks)
    return Stack(first, get_unit(names[1]).build(config.hidden, 1, n_networks, **options))


# -- what each network reads: input roles, target masks, distributions ----------------
def index_offset(keys: torch.Tensor, n_choices: int) -> torch.Tensor:
    """k per network, fixed by its seed: the Primer's position of a among the inputs."""
    return torch.remainder(counter_random.derive(keys, _INDEX_SALT), n_choices)


def target_masks(config: BenchConfig, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(a_mask, b_mask), each (N, I): a = Σ a_mask·x, b = Σ b_mask·x."""
    n, size = len(keys), config.input_size
    positions = torch.arange(size)
    if config.task == "primer":
        k = index_offset(keys, size - 1)[:, None]
        return (positions == k).double(), (positions == k + 1).double()
    # ICLR: a = Σ x[k : k+25], b = Σ x[k+13 : k+38] (subset ratio 0.25, overlap 0.5).
    k = index_offset(keys, size - 37)[:, None]
    a_mask = (positions >= k) & (positions < k + 25)
    b_mask = (positions >= k + 13) & (positions < k + 38)
    return a_mask.double().expand(n, size), b_mask.double().expand(n, size)


def distribution_parameters(
    pairs: Sequence[RangePair], a_mask: torch.Tensor, b_mask: torch.Tensor, split: str
) -> tuple[torch.Tensor, ...]:
    """Per-network, per-input distribution parameters (N, 1, I) for ``split``."""
    columns = []
    for pair, a_row, b_row in zip(pairs, a_mask, b_mask):
        roles = [pair.role(split, "a"), pair.role(split, "b"), pair.role(split, "other")]
        stacked = torch.stack([torch.stack(d.parameters()) for d in roles])  # (3, 6)
        role = torch.where(a_row > 0, 0, torch.where(b_row > 0, 1, 2))
        columns.append(stacked[role])  # (I, 6)
    table = torch.stack(columns)  # (N, I, 6)
    return tuple(table[..., j][:, None, :] for j in range(6))


def draw(u: torch.Tensor, u_sign: torch.Tensor, parameters: tuple[torch.Tensor, ...]) -> torch.Tensor:
    return sample_parameters(u, u_sign, *parameters)


def fixed_uniforms(config: BenchConfig, split: str, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed U[0,1) numbers (n, I) behind a validation or test set, by their own seed."""
    seed = zlib.crc32(f"{config.task}/{split}/{config.input_size}".encode())
    keys = counter_random.stream_keys([seed])
    both = counter_random.uniform(keys, _DATA_STREAM, 0, (2, n_samples, config.input_size))[0]
    return both[0], both[1]


# -- training -----------------------------------------------------------------------------
def _clip_gradients(unit: Unit, n_networks: int, value: float | None, norm: float | None) -> None:
    parameters = [p for p in unit.parameters() if p.grad is not None]
    if value is not None:
        for p in parameters:
            p.grad.clamp_(-value, value)
    if norm is not None:
        squared = sum(p.grad.reshape(n_networks, -1).square().sum(1) for p in parameters)
        scale = (norm / (squared.sqrt() + 1e-6)).clamp(max=1.0)
        for p in parameters:
            p.grad.mul_(scale.reshape((n_networks,) + (1,) * (p.dim() - 1)))


def _training_loss(unit: Unit, loss: str, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-network training loss (N,) on a batch x (N, B, I) with targets (N, B)."""
    if loss == "mse":
        return (unit(x)[..., 0] - target).square().mean(-1)
    real, imaginary = unit.log_parts(x)
    log_error = real[..., 0] - torch.log(target.abs().clamp_min(1e-30))
    sign_error = torch.cos(imaginary[..., 0]) - torch.sign(target)
    return (log_error.square() + sign_error.square()).mean(-1)


@torch.no_grad()
def _fixed_set(config: BenchConfig, split: str, n_samples: int, params, masks, compute, dtype):
    """A validation or test set for every network: inputs (N, n, I) and targets (N, n) in float64."""
    u, u_sign = fixed_uniforms(config, "valid" if split == "train" else "test", n_samples)
    x = draw(u[None], u_sign[None], params)
    operands = x @ torch.stack(masks, -1)
    return x.to(dtype), compute(operands[..., 0], operands[..., 1])


@torch.no_grad()
def _mse(unit: Unit, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error (N,) on a fixed set, evaluated in chunks; NaN counts as infinite."""
    total = torch.zeros(inputs.shape[0], dtype=torch.float64)
    for start in range(0, inputs.shape[1], _EVAL_CHUNK):
        output = unit(inputs[:, start : start + _EVAL_CHUNK])[..., 0].double()
        total += (output - targets[:, start : start + _EVAL_CHUNK]).square().sum(1)
    return torch.nan_to_num(total / inputs.shape[1], nan=math.inf)


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
    n = len(configs)
    dtype = getattr(torch, head.dtype)
    operation = get_operation(head.operation)
    keys = counter_random.stream_keys(list(seeds))
    # Runs that share a seed draw the same numbers (their ranges map them
    # differently): draw once per distinct seed and index.
    unique_seeds, seed_index = torch.unique(torch.as_tensor(list(seeds)), return_inverse=True)
    unique_keys = counter_random.stream_keys(unique_seeds)
    pairs = [get_range(c.range_name) for c in configs]
    masks = target_masks(head, keys)
    train_params = distribution_parameters(pairs, *masks, "train")
    test_params = distribution_parameters(pairs, *masks, "test")
    train_sign = bool(train_params[5].any())
    simple_train = not train_sign and bool((train_params[0] == 0).all())
    train_low = train_params[1][:, None].to(dtype)  # (N, 1, 1, I)
    train_width = (train_params[2] - train_params[1])[:, None].to(dtype)
    mask_matrix = torch.stack(masks, -1).to(dtype)  # (N, I, 2)
    limits = {c: torch.tensor([thresholds(c, cfg) for cfg in configs], dtype=torch.float64) for c in CRITERIA}

    unit = build_model(head, n).to(dtype)
    unit.reset_parameters(Sampler(keys))
    unit.train()
    optimizer = Adam(unit.parameters(), lr=head.lr)
    valid_set = _fixed_set(head, "train", head.n_valid, train_params, masks, operation.compute, dtype)
    test_set = _fixed_set(head, "test", head.n_test, test_params, masks, operation.compute, dtype)

    best_valid = torch.full((n,), math.inf, dtype=torch.float64)
    best_test = torch.full((n,), math.inf, dtype=torch.float64)
    best_step = torch.zeros(n, dtype=torch.int64)
    best_weights = [p.detach().clone() for p in unit.parameters()]
    solved_at = {c: torch.full((n,), -1, dtype=torch.int64) for c in CRITERIA}
    window = unit.stall_window
    recent_losses = torch.full((window, n), math.nan, dtype=torch.float64) if window else None
    restarts = torch.zeros(n, dtype=torch.int64)

    for chunk_start in range(0, head.steps, _CHUNK):
        count = min(_CHUNK, head.steps - chunk_start)
        shape = (count, head.batch_size, head.input_size)
        u = counter_random.uniform(unique_keys, _DATA_STREAM, chunk_start // _CHUNK, (2, *shape) if train_sign else shape)
        u = u.to(dtype)[seed_index]
        if simple_train:  # every input uniform, no random signs: one affine map
            inputs = train_low + train_width * u
        else:
            u, u_sign = (u[:, 0], u[:, 1]) if train_sign else (u, u)
            inputs = draw(u, u_sign, tuple(p[:, None].to(dtype) for p in train_params))  # (N, count, B, I)
        operands = inputs @ mask_matrix[:, None]  # (N, count, B, 2): a and b
        targets = operation.compute(operands[..., 0], operands[..., 1])
        for offset in range(count):
            step = chunk_start + offset + 1
            if head.lr_schedule == "cosine":
                optimizer.lr = head.lr * 0.5 * (1.0 + math.cos(math.pi * (step - 1) / head.steps))
            mse = _training_loss(unit, head.loss, inputs[:, offset], targets[:, offset])  # (N,)
            loss = mse + unit.regularization(step).to(dtype)
            optimizer.zero_grad()
            loss.sum().backward()
            _clip_gradients(unit, n, head.clip_grad_value, head.clip_grad_norm)
            optimizer.step()
            unit.project_()
            if window:
                recent_losses[step % window] = mse.detach().double()
                ordered = torch.roll(recent_losses, -((step + 1) % window), 0)
                restart = unit.stalled(ordered, step)
                if restart.any():
                    restarts += restart.long()
                    unit.reinitialize_(restart, Sampler(counter_random.derive(keys, restarts)))
                    optimizer.reset_(restart)
                    recent_losses[:, restart] = math.nan
            if step % head.log_every == 0 or step == head.steps:
                unit.eval()
                valid = _mse(unit, *valid_set)
                test = _mse(unit, *test_set)
                unit.train()
                unit.observe_interpolation_mse(valid)
                improved = valid < best_valid
                best_valid = torch.where(improved, valid, best_valid)
                best_test = torch.where(improved, test, best_test)
                best_step = torch.where(improved, step, best_step)
                for kept, current in zip(best_weights, unit.parameters()):
                    mask = improved.reshape((n,) + (1,) * (kept.dim() - 1))
                    kept.copy_(torch.where(mask, current.detach(), kept))
                for c in CRITERIA:
                    first = (solved_at[c] < 0) & (test < limits[c])
                    solved_at[c] = torch.where(first, step, solved_at[c])
                if progress is not None:
                    progress(step)

    with torch.no_grad():
        for parameter, kept in zip(unit.parameters(), best_weights):
            parameter.copy_(kept)
    unit.eval()
    sparsity = sparsity_errors(unit, n)
    formulas = read_formulas(unit, head, masks)
    seconds = (time.perf_counter() - start_time) / n
    rows = []
    for i, (config, seed) in enumerate(zip(configs, seeds)):
        solved = {c: bool(best_test[i] < limits[c][i]) for c in CRITERIA}
        rows.append(
            RunRow(
                key=config.key(seed),
                unit=config.unit,
                operation=config.operation,
                task=config.task,
                range_name=config.range_name,
                seed=int(seed),
                steps=config.steps,
                config=config.to_json(),
                best_step=int(best_step[i]),
                best_val_mse=float(best_valid[i]),
                best_test_mse=float(best_test[i]),
                threshold_raw=float(limits["raw"][i]),
                threshold_iclr=float(limits["iclr"][i]),
                threshold_primer=float(limits["primer"][i]),
                solved_raw=solved["raw"],
                solved_iclr=solved["iclr"],
                solved_primer=solved["primer"],
                solved_at_raw=int(solved_at["raw"][i]) if solved_at["raw"][i] >= 0 else None,
                solved_at_iclr=int(solved_at["iclr"][i]) if solved_at["iclr"][i] >= 0 else None,
                solved_at_primer=int(solved_at["primer"][i]) if solved_at["primer"][i] >= 0 else None,
                sparsity_error=float(sparsity[i]),
                formula=formulas[i][0],
                formula_exact=formulas[i][1],
                seconds=seconds,
            )
        )
    return rows


def sparsity_errors(unit: Unit, n: int) -> torch.Tensor:
    """max over weights of min(|W|, |1 − |W||) per network (the Primer's sparsity error)."""
    worst = torch.zeros(n, dtype=torch.float64)
    for weight in unit.sparsity_weights():
        magnitude = weight.detach().double().reshape(n, -1).abs()
        worst = torch.maximum(worst, torch.minimum(magnitude, (1 - magnitude).abs()).max(1).values)
    return worst


def read_formulas(unit: Unit, config: BenchConfig, masks: tuple[torch.Tensor, torch.Tensor]) -> list[tuple[str, bool]]:
    """(formula, exact) per network from the rounded weights at the best step.

    Exact means: equal to the target symbolically, and no input used beyond
    the target's own (no distractor, no cancelling x·(1/x) pair).
    """
    operation = get_operation(config.operation)
    symbols = list(sympy.symbols(f"x0:{config.input_size}", real=True))
    results = []
    for i in range(len(masks[0])):
        a = sum(s for s, m in zip(symbols, masks[0][i].tolist()) if m)
        b = sum(s for s, m in zip(symbols, masks[1][i].tolist()) if m)
        target = operation.expression(a, b)
        rounded, used = rounded_formula(unit, i)[0]
        formula, exact = judge(rounded, target)
        text = str(formula)
        extra = used - target.free_symbols
        if exact and extra:  # algebra hides them: say so in the formula
            exact = False
            names = ", ".join(sorted(str(s) for s in extra))
            text += f"  [the rounded weights also use {names}, which cancel]"
        results.append((text, bool(exact)))
    return results
