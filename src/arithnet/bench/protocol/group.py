"""The field's benchmark protocol, run for many (range, seed) pairs as one tensor program.

``run_group`` trains a list of (configuration, seed) pairs that differ only
in range and seed, all at once: every network has its own weights, input
distributions, target indices, thresholds and random streams, so a run's row
does not depend on which other runs shared its group.

The protocol (nalm.md, "Benchmark protocols"): a fresh batch of 128 every
step, MSE loss plus the unit's regularization, Adam, the unit's projection
and its training rules (engine callbacks, bench.protocol.model) after each
step; every ``log_every`` steps the validation (interpolation) and test
(extrapolation) MSE on fixed sets of 10,000 samples. The best step is the
logged step with the lowest validation MSE; a run is solved under a
criterion when the test MSE at that step is below the criterion's threshold;
"solved at" is the first logged step whose test MSE is below it.

It is a composition of the training engine (arithnet.engine): the data come
from bench.protocol.data, the measurements from bench.protocol.measure.
Shape letters: N networks (runs), B batch, I inputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from arithnet import random as counter_random
from arithnet.bench.protocol.config import BenchConfig, ResolvedConfig, resolve
from arithnet.bench.protocol.data import GroupData
from arithnet.bench.protocol.measure import fixed_set_mse, formula_verdicts, sparsity_errors
from arithnet.bench.protocol.model import build_model, model_rules
from arithnet.bench.protocol.rows import CRITERIA, RunRow
from arithnet.bench.protocol.tasks import get_range
from arithnet.bench.protocol.thresholds import threshold
from arithnet.engine import Problem
from arithnet.engine import fit as engine_fit
from arithnet.operations import get_operation


def run_threshold(criterion: str, config: BenchConfig | ResolvedConfig) -> float:
    """The success threshold of a run of ``config`` under ``criterion``, from the shipped table (thresholds.py)."""
    published = config.threshold_subsets == "published"  # the ICLR authors' 26-element subsets (iclr preset)
    return threshold(criterion, config.operation, config.range_name, config.input_size, config.task, published)


def run_group(
    configs: Sequence[BenchConfig | ResolvedConfig],
    seeds: Sequence[int],
    thresholds: Callable[[str, ResolvedConfig], float] = run_threshold,
    progress: Callable[[int], None] | None = None,
) -> list[RunRow]:
    """Train the runs (configs[i], seeds[i]) together and return one row each.

    All configurations must share their group key (they may differ in range);
    a ``BenchConfig`` is resolved here, a grid's runs come resolved.
    ``thresholds(criterion, config)`` gives the success threshold of a run.
    ``progress`` is called with the number of steps done after each log.
    """
    configs = [resolve(config) for config in configs]
    head = configs[0]
    if any(config.group_key() != head.group_key() for config in configs):
        raise ValueError("runs in one group must differ only in range and seed")
    start_time = time.perf_counter()
    dtype = getattr(torch, head.dtype)
    pairs = [get_range(config.range_name) for config in configs]
    operation = get_operation(head.operation)
    data = GroupData(head.task, head.input_size, seeds, pairs, operation, dtype, head.device, bool(head.compile))
    valid_set, test_set = data.fixed_set("valid", head.n_valid), data.fixed_set("test", head.n_test)
    limits = {
        criterion: torch.tensor([thresholds(criterion, config) for config in configs], dtype=torch.float64)
        for criterion in CRITERIA
    }
    solved_at = SolvedAt(limits)
    problem = Problem(
        keys=counter_random.stream_keys(list(seeds)),
        build=lambda n: build_model(head, n).to(dtype).to(head.device),
        batch=lambda step: data.batch(step, head.batch_size),
        evaluate=lambda unit: {"valid": fixed_set_mse(unit, *valid_set), "test": fixed_set_mse(unit, *test_set)},
        callbacks=lambda unit: model_rules(head, unit),
    )
    fit = engine_fit(problem, head.engine_config(), progress, on_log=solved_at.update)
    unit = fit.unit.cpu()
    measured = {
        "best_step": fit.best.step.cpu(),
        "best_val_mse": fit.best.valid.cpu(),
        "best_test_mse": fit.best.metrics["test"].cpu(),
        "sparsity_error": sparsity_errors(unit, len(configs)),
    }
    formulas = formula_verdicts(unit, get_operation(head.operation), head.input_size, data.masks)
    seconds = (time.perf_counter() - start_time) / len(configs)
    return [
        make_row(config, int(seed), i, measured, limits, solved_at.steps, formulas[i], seconds)
        for i, (config, seed) in enumerate(zip(configs, seeds))
    ]


class SolvedAt:
    """The first logged step whose test MSE is below each criterion's threshold, per run (-1: never)."""

    def __init__(self, limits: dict[str, torch.Tensor]) -> None:
        self.limits = limits
        self.steps = {criterion: torch.full(limit.shape, -1, dtype=torch.int64) for criterion, limit in limits.items()}

    def update(self, step: int, metrics: dict[str, torch.Tensor]) -> None:
        test = metrics["test"].cpu()
        for criterion, limit in self.limits.items():
            first = (self.steps[criterion] < 0) & (test < limit)
            self.steps[criterion] = torch.where(first, step, self.steps[criterion])


def make_row(config, seed, i, measured, limits, solved_at, formula, seconds) -> RunRow:
    """The stored row of run ``i`` of a group."""
    best_test = float(measured["best_test_mse"][i])
    solved = {criterion: best_test < float(limits[criterion][i]) for criterion in CRITERIA}
    first = {
        criterion: int(solved_at[criterion][i]) if solved_at[criterion][i] >= 0 else None for criterion in CRITERIA
    }
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
        **{f"threshold_{criterion}": float(limits[criterion][i]) for criterion in CRITERIA},
        **{f"solved_{criterion}": solved[criterion] for criterion in CRITERIA},
        **{f"solved_at_{criterion}": first[criterion] for criterion in CRITERIA},
        sparsity_error=float(measured["sparsity_error"][i]),
        formula=formula[0],
        formula_exact=formula[1],
        seconds=seconds,
    )
