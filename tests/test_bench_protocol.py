"""The benchmark protocol: outcomes, independence from grouping, validation."""

from __future__ import annotations

import pytest
import torch

from arithnet.bench import Grid
from arithnet.bench.protocol import BenchConfig, ResolvedConfig, resolve, run_group, run_threshold
from arithnet.bench.protocol import group as group_module
from arithnet.bench.run import make_groups


def fast(**changes) -> BenchConfig:
    settings = dict(
        unit="LogExp-direct",
        operation="div",
        input_size=10,
        range_name="7",
        steps=1500,
        log_every=500,
        n_valid=500,
        n_test=500,
        loss="log",
        lr=0.05,
        lr_schedule="cosine",
    )
    return BenchConfig(**{**settings, **changes})


def test_logexp_direct_learns_division_among_distractors():
    rows = run_group([fast()] * 3, [0, 1, 2], run_threshold)
    for row in rows:
        assert row.solved_raw and row.solved_iclr and row.formula_exact
        assert row.best_test_mse < 1e-9
        # x_k / x_{k+1}, with k fixed by the seed.
        assert "/" in row.formula and row.formula.count("x") == 2
        assert row.solved_at_raw is not None and row.solved_at_raw <= row.steps
        assert row.sparsity_error < 1e-4


def test_a_run_does_not_depend_on_its_group():
    alone = run_group([fast(range_name="6")], [4], run_threshold)[0]
    grouped = run_group([fast(range_name="7"), fast(range_name="6"), fast(range_name="9")], [4, 4, 5], run_threshold)[1]
    # Same numbers in, same outcome out; float32 kernels for other batch sizes
    # may round differently in the last bits, so the MSEs agree to 1%, not bitwise.
    assert alone.key == grouped.key
    assert (alone.best_step, alone.formula, alone.solved_raw) == (
        grouped.best_step,
        grouped.formula,
        grouped.solved_raw,
    )
    assert alone.best_val_mse == pytest.approx(grouped.best_val_mse, rel=1e-2)
    assert alone.best_test_mse == pytest.approx(grouped.best_test_mse, rel=1e-2)


def test_unsolvable_runs_are_reported_not_hidden():
    # NMU cannot divide: forced, it trains, fails every criterion and says so.
    config = BenchConfig(
        unit="NMU",
        operation="div",
        input_size=2,
        range_name="7",
        steps=400,
        log_every=200,
        n_valid=200,
        n_test=200,
        force=True,
    )
    row = run_group([config], [0], run_threshold)[0]
    assert not (row.solved_raw or row.solved_iclr or row.solved_primer or row.formula_exact)
    assert row.best_test_mse > 1e-3


def inalu(restart: bool) -> BenchConfig:
    # A window of 20 steps and a loss threshold of 0: no run makes clear progress over 20 steps, so
    # with restarts on every run is restarted again and again.
    options = (("stall_window", 20), ("stall_loss", 0.0), ("reinitialize_on_stall", restart))
    return BenchConfig(
        unit="iNALU",
        operation="div",
        input_size=2,
        range_name="7",
        steps=300,
        log_every=100,
        n_valid=100,
        n_test=100,
        unit_options=options,
    )


def test_inalu_restarts_stalled_runs_in_the_benchmark(monkeypatch):
    original, fits = group_module.engine_fit, []

    def recording_fit(*args, **kwargs):
        fits.append(original(*args, **kwargs))
        return fits[-1]

    monkeypatch.setattr(group_module, "engine_fit", recording_fit)
    restarted = run_group([inalu(restart=True)] * 2, [0, 1], run_threshold)
    kept = run_group([inalu(restart=False)] * 2, [0, 1], run_threshold)
    # run_group's own engine run restarted every run, several times, and only with restarts on.
    assert (fits[0].restarts >= 5).all()
    assert fits[1].restarts.tolist() == [0, 0]
    # Same seeds, same data, same initial weights: the restarts alone make the rows differ.
    assert torch.equal(fits[0].initial["gate_hat"], fits[1].initial["gate_hat"])
    for with_restarts, without in zip(restarted, kept):
        assert with_restarts.key != without.key
        assert with_restarts.best_val_mse != without.best_val_mse
        assert with_restarts.sparsity_error != without.sparsity_error


def test_keys_identify_configuration_and_seed():
    assert fast().resolved().key(1) == fast().resolved().key(1)
    assert fast().resolved().key(1) != fast().resolved().key(2)
    assert fast().resolved().key(1) != fast(steps=1501).resolved().key(1)
    # The unit's paper values are part of the key even when left as None.
    nmru, nmru_lr = BenchConfig(unit="NMRU", operation="div"), BenchConfig(unit="NMRU", operation="div", lr=1e-2)
    assert nmru.resolved().key(0) == nmru_lr.resolved().key(0)
    # Execution choices are not: a grid resumed without compiling, or on another device, is the same grid.
    assert fast(compile=True).resolved().key(0) == fast(compile=False).resolved().key(0)
    # Every other field is, at its default too, and so is the key's version.
    plain = BenchConfig(unit="NAU", operation="add").resolved()
    assert plain.key(3) == "6f5d14506e686345fa41ba3f"  # pinned: a change of the key must change KEY_VERSION
    assert plain.key(3) != BenchConfig(unit="NAU", operation="add", preset="primer").resolved().key(3)


def test_a_config_is_resolved_once_into_a_record_of_every_choice():
    config = BenchConfig(unit="NMRU", operation="div", steps=30_000)
    resolved = config.resolved()
    assert isinstance(resolved, ResolvedConfig) and not isinstance(resolved, BenchConfig)
    assert (resolved.lr, resolved.clip_grad_value, resolved.clip_grad_norm, resolved.compile) == (1e-2, None, 1.0, True)
    assert resolve(resolved) is resolved and resolve(config) == resolved
    assert ResolvedConfig.from_json(resolved.to_json()) == resolved  # what a row stores reads back as the record
    assert resolved.engine_config().clip_grad_norm == 1.0 and resolved.engine_config().compile


def test_a_runs_key_does_not_depend_on_a_needless_force():
    # NAU represents add: forcing it changes nothing, so neither its key, its group nor its stored configuration.
    plain = BenchConfig(unit="NAU", operation="add").resolved()
    forced = BenchConfig(unit="NAU", operation="add", force=True).resolved()
    assert forced == plain and forced.key(3) == plain.key(3) and forced.group_key() == plain.group_key()
    assert forced.force is False and '"force": false' in forced.to_json()
    needed = BenchConfig(unit="NAC*", operation="add", force=True).resolved()  # NAC* cannot represent add
    assert needed.force is True and '"force": true' in needed.to_json()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(unit="Foo"), "unknown unit 'Foo'; valid units: .*NMRU"),
        (dict(unit="NMU", loss="mse"), "cannot represent div exactly .*--force"),
        (dict(operation="pow"), "unknown operation 'pow'"),
        (dict(task="tsp"), "unknown task 'tsp'; valid tasks: primer, iclr"),
        (dict(range_name="42"), "unknown range '42'; valid ranges: 1, 2"),
        (dict(loss="l1"), "unknown loss 'l1'"),
        (dict(unit="NMRU", loss="log"), "log-space loss needs a unit with log_parts"),
        (dict(steps=0), "steps must be an integer of at least 1"),
        (dict(lr=float("nan")), "learning rate must be a finite number above 0"),
        (dict(lr=-1.0), "learning rate must be a finite number above 0"),
        (dict(device="tpu"), "unknown device 'tpu'"),
    ],
)
def test_bad_configurations_name_the_problem(changes, message):
    with pytest.raises(ValueError, match=message):
        fast(**changes)


def test_groups_split_work_between_processes():
    grid = Grid(
        ("NAU",),
        ("add", "sub"),
        tuple(str(i) for i in range(1, 10)),
        tuple(range(25)),
        {("NAU", op): fast(unit="NAU", operation=op, loss="mse").resolved() for op in ("add", "sub")},
    )
    runs = grid.runs()
    groups = make_groups(runs, jobs=2)
    assert sum(len(g) for g in groups) == len(runs) == 450
    assert len(groups) >= 2 and max(len(g) for g in groups) <= 256
    assert all(len({c.group_key() for c, _ in g}) == 1 for g in groups)
