"""Paper presets (bench.protocol.presets): the table's cited values reach the runs, explicit settings win, bad input."""

from __future__ import annotations

import re

import pytest

from arithnet.bench import bench_grid
from arithnet.bench.protocol import (
    BenchConfig,
    ResolvedConfig,
    build_model,
    covered_operations,
    preset_rows,
    preset_settings,
    presets,
    run_group,
    run_threshold,
)
from arithnet.bench.protocol import thresholds as th
from arithnet.bench.protocol.presets import FLOAT32_EPS, TABLE
from arithnet.bench.run import v1_keys
from arithnet.training.rules import training_rules


def only_config(**kwargs) -> ResolvedConfig:
    """The configuration of a one-range, one-seed preset grid."""
    runs = bench_grid(seeds=1, **kwargs).runs()
    assert len({config for config, _ in runs}) == 1
    return runs[0][0]


def built(config: BenchConfig | ResolvedConfig):
    return build_model(config, 1)


def rules(config: BenchConfig | ResolvedConfig):
    return training_rules(built(config), dict(config.unit_options))


# -- the table's values reach the runs -------------------------------------------------------
@pytest.mark.parametrize(("input_size", "ramp"), [(2, (20_000, 35_000)), (10, (50_000, 75_000))])
def test_primer_nmu_ramp_by_input_size(input_size, ramp):
    config = only_config(units="NMU", ops="mul", preset="primer", input_size=input_size, ranges="7")
    unit = built(config)
    assert (unit.regularization_start, unit.regularization_end) == ramp
    assert unit.regularization_scale == 10.0
    assert config.steps == (50_000 if input_size == 2 else 100_000)
    assert config.preset == "primer" and config.log_step_zero and config.engine_config().log_step_zero


def test_nru_learns_at_lr_1_on_input_2_and_1e_3_on_input_10():
    two = only_config(units="NRU", ops="div", preset="division", ranges="7")
    ten = only_config(units="NRU", ops="div", preset="division", input_size=10, ranges="7")
    assert two.lr == 1.0 and ten.lr == 1e-3
    assert (built(two).regularization_start, built(two).regularization_end) == (20_000, 35_000)


def test_realnpu_mod_input_2_ramp_and_reference_epsilon():
    unit = built(only_config(units="RealNPU-mod", ops="div", preset="division", ranges="7"))
    assert (unit.regularization_start, unit.regularization_end) == (40_000, 50_000)
    assert unit.eps == FLOAT32_EPS == 1.1920928955078125e-07
    assert unit.modified and unit.gate_gradient == "clamp"


@pytest.mark.parametrize(("operation", "schedule"), [("mul", (1e-7, 1e-5)), ("div", (1e-9, 1e-7))])
def test_npu_beta_schedule_by_operation(operation, schedule):
    config = only_config(units="NPU", ops=operation, preset="primer", ranges="7")
    unit = built(config)
    assert (unit.l1_start, unit.l1_end) == schedule
    assert unit.gate_gradient == "clamp" and config.lr == 5e-3


def test_inalu_uses_the_primers_restart_rule_and_value_clipping():
    config = only_config(units="iNALU", ops="div", preset="primer", ranges="7")
    assert rules(config)[0].restart_rule == "primer"
    assert config.clip_grad_value == 0.1


def test_nmru_vanilla_trains_without_clipping():
    config = only_config(units="NMRU-vanilla", ops="div", preset="division", input_size=10, ranges="7")
    assert config.engine_config().clip_grad_norm is None
    assert only_config(units="NMRU", ops="div", preset="division", ranges="7").engine_config().clip_grad_norm == 1.0


def test_iclr_stack_gives_both_layers_one_lambda_and_ramp():
    config = only_config(units="NAU>NMU", ops="mul", preset="iclr")
    assert (config.task, config.input_size, config.range_name, config.steps) == ("iclr", 100, "iclr", 5_000_000)
    stack = built(config)
    for layer in (stack.first, stack.second):
        assert (layer.regularization_scale, layer.regularization_start, layer.regularization_end) == (
            10.0,
            1_000_000,
            2_000_000,
        )


def test_stack_options_reach_the_layers_that_take_them():
    config = only_config(units="NAU>NMRU", ops="div", preset="iclr")
    stack = built(config)
    assert stack.second.eps == FLOAT32_EPS  # NAU takes no eps: only the NMRU gets it
    assert stack.first.regularization_start == stack.second.regularization_start == 1_000_000
    with pytest.raises(ValueError, match="bad unit option for NAU>NMU: neither NAU nor NMU takes 'eps'"):
        BenchConfig(unit="NAU>NMU", operation="mul", task="iclr", input_size=100, range_name="iclr",
                    unit_options=(("eps", 1e-7),))  # fmt: skip


@pytest.mark.parametrize(("operation", "published"), [("add", 1.479e-5), ("div", 4.938e-12)])
def test_iclr_preset_uses_the_authors_26_element_thresholds(operation, published):
    config = only_config(units="NAU>NMU", ops=operation, preset="iclr")
    assert config.threshold_subsets == "published"
    # The same Monte Carlo tolerance as tests/test_thresholds.py.
    assert run_threshold("iclr", config) == pytest.approx(published, rel=3e-3)
    plain = BenchConfig(unit="NAU>NMU", operation=operation, task="iclr", input_size=100, range_name="iclr", force=True)
    assert run_threshold("iclr", plain) == th.threshold("iclr", operation, "iclr", 100, "iclr")
    assert run_threshold("iclr", plain) > run_threshold("iclr", config)  # 25 elements: looser


def test_forced_exactly_where_the_paper_ran_an_unrepresentable_operation():
    assert only_config(units="NALU", ops="add", preset="primer", ranges="7").force
    assert not only_config(units="NAU", ops="add", preset="primer", ranges="7").force
    assert only_config(units="NAU>NMU", ops="sub", preset="iclr").force


def test_every_entry_builds_and_cites():
    n_runs = 0
    for entry in TABLE:
        cited = [entry.operations, *entry.settings.values(), *entry.options.values()]
        assert all(c.citation.strip() for c in cited), entry
        for input_size in entry.input_sizes:
            for operation in entry.operations.value:
                settings = preset_settings(entry.preset, entry.unit, entry.task, input_size, operation)
                range_name = "iclr" if entry.task == "iclr" else "7"
                config = BenchConfig(entry.unit, operation, entry.task, input_size, range_name, **settings)
                built(config)
                n_runs += 1
    assert n_runs > 90


# -- explicit settings win ------------------------------------------------------------------------
def test_explicit_settings_override_the_preset():
    config = only_config(
        units="NMU", ops="mul", preset="primer", ranges="7", steps=1_000, lr=0.01,
        unit_options=["regularization_start=100"],
    )  # fmt: skip
    assert (config.steps, config.lr) == (1_000, 0.01)
    assert dict(config.unit_options) == {"regularization_scale": 10.0, "regularization_start": 100,
                                         "regularization_end": 35_000}  # fmt: skip
    iclr = only_config(units="NAU>NMU", ops="mul", preset="iclr", steps=100_000)
    assert iclr.steps == 100_000 and iclr.threshold_subsets == "published"


def test_runs_of_one_preset_grid_differ_by_unit():
    runs = bench_grid("NMU,NRU", "mul", input_size=2, ranges="6,7", seeds=2, preset="primer").runs()
    assert len(runs) == 8
    by_unit = {config.unit: config for config, _ in runs}
    assert by_unit["NRU"].lr == 1.0 and by_unit["NMU"].lr == 1e-3


def test_without_ops_a_preset_runs_each_unit_on_its_papers_operations():
    grid = bench_grid(units="NAU,NMU,NPU", preset="primer", input_size=2, seeds=1)
    pairs = sorted({(config.unit, config.operation) for config, _ in grid.runs()})
    assert pairs == [("NAU", "add"), ("NAU", "sub"), ("NMU", "mul"), ("NPU", "div"), ("NPU", "mul")]
    assert covered_operations("division", "NMRU-vanilla", "primer", 10) == ("div",)
    with pytest.raises(ValueError, match="preset division does not cover NMRU-vanilla on add at input 2"):
        covered_operations("division", "NMRU-vanilla", "primer", 2)


def test_no_preset_keeps_the_stored_keys():
    # Keys of version 1 computed before presets existed: a store written then resumes (bench.run.keys).
    assert v1_keys(BenchConfig(unit="NAU", operation="add").resolved(), 3)[0] == "b6201c71d75ef56c13f4e0b8"
    nmu = BenchConfig(unit="NMU", operation="mul", unit_options=(("regularization_start", 20000),)).resolved()
    assert v1_keys(nmu, 0)[0] == "2eb7106c198f28e3271b7e0f"
    preset = BenchConfig(unit="NAU", operation="add", preset="primer").resolved()
    assert v1_keys(preset, 3)[0] != "b6201c71d75ef56c13f4e0b8"


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": "NAU", "preset": "nalu"}, "unknown preset 'nalu'; valid presets: primer, iclr, division"),
        (
            {"units": "NAU", "ops": "mul", "preset": "primer"},
            "preset primer does not cover NAU on mul at input 2: it covers NAU on add, sub at input 2, 10",
        ),
        (
            {"units": "NAU", "ops": "add", "preset": "iclr"},
            "preset iclr does not cover NAU on add at input 100: it covers the units NAU>NAU, NAU>NMU",
        ),
        (
            {"units": "NMRU-vanilla", "ops": "div", "preset": "division"},
            "preset division does not cover NMRU-vanilla on div at input 2: it covers NMRU-vanilla on div at input 10",
        ),
        (
            {"units": "NAU", "ops": "add", "preset": "primer", "input_size": 5},
            "preset primer does not cover NAU on add at input 5",
        ),
        (
            {"units": "NAU>NMU", "ops": "mul", "preset": "iclr", "task": "primer", "input_size": 2, "ranges": "7"},
            "preset iclr does not cover NAU>NMU on mul at input 2 of the primer task",
        ),
    ],
)
def test_uncovered_runs_name_what_the_preset_covers(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        bench_grid(seeds=1, **kwargs)


def test_bad_later_fields_are_refused():
    with pytest.raises(ValueError, match="threshold_subsets='published' applies to the iclr task only"):
        BenchConfig(unit="NAU", operation="add", threshold_subsets="published")
    with pytest.raises(ValueError, match="unknown threshold_subsets 'r'"):
        BenchConfig(unit="NAU", operation="add", threshold_subsets="r")
    with pytest.raises(ValueError, match="gradient clip norm must be a finite number above 0"):
        BenchConfig(unit="NAU", operation="add", clip_grad_norm=-1.0)


def test_preset_rows_show_every_setting_with_its_source():
    rows = preset_rows("primer")
    nmu = {row[4]: row for row in rows if row[0] == "NMU" and row[2] == "2"}
    assert nmu["regularization_start"][5] == "20000"
    assert "--regualizer-scaling-start 20000" in nmu["regularization_start"][6]
    assert any(row[0] == "NALU" and row[4] == "force" and row[5] == "add, sub, mul, div" for row in rows)
    assert {row[0] for row in rows} >= {"NAC+", "NAC*", "NALU", "G-NALU", "iNALU", "NAU", "NMU", "NPU", "RealNPU",
                                        "RealNPU-mod", "NRU", "NMRU"}  # fmt: skip
    assert set(presets.PRESETS) == {"primer", "iclr", "division"}


# -- end to end ------------------------------------------------------------------------------------
def test_tiny_iclr_preset_group_runs_with_the_published_thresholds():
    config = only_config(units="NAU>NMU", ops="mul", preset="iclr", steps=30)
    config = BenchConfig(**{**config.__dict__, "log_every": 10, "n_valid": 200, "n_test": 200})
    row = run_group([config], [0], run_threshold)[0]
    assert row.threshold_iclr == pytest.approx(0.1600, rel=3e-3)
    assert '"preset": "iclr"' in row.config and '"log_step_zero": true' in row.config
    assert row.best_step in (0, 10, 20, 30)
