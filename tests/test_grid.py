"""The benchmark grid in the library: range spans, unit options, default steps, ``bench_grid``."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from arithnet.bench import Grid, bench_grid, default_steps, parse_unit_options, range_names
from arithnet.bench.protocol import GRIDS, BenchConfig


def test_range_names_expand_spans_grids_and_lists():
    assert range_names("1-3,7") == ("1", "2", "3", "7")
    assert range_names("primer") == tuple(str(i) for i in range(1, 10))
    assert range_names(" 7 , 6-7, primer ")[:2] == ("7", "6")  # order kept, repeats dropped
    assert range_names(["iclr", "mixed-6"]) == ("iclr", "mixed-6")
    assert range_names("all") == tuple(name for grid in GRIDS.values() for name in grid)
    assert range_names("near-zero-0.001,wide-50") == ("near-zero-0.001", "wide-50")
    assert range_names("5-5") == ("5",)


def test_inverted_span_is_an_error():
    with pytest.raises(ValueError, match="range 9-1 is inverted: write 1-9"):
        range_names("9-1")


def test_unit_options_are_python_literals():
    assert parse_unit_options(["regularization_start=20000", "init_out=(0.0, -1.5)", "flag=True", "x=None"]) == (
        ("regularization_start", 20000),
        ("init_out", (0.0, -1.5)),
        ("flag", True),
        ("x", None),
    )
    assert parse_unit_options("gate_gradient='clamp'") == (("gate_gradient", "clamp"),)
    assert parse_unit_options([]) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regularization_scale=abc", "unit option regularization_scale=abc: 'abc' is not a number"),
        ("gate_gradient=clamp", "quote a string: gate_gradient='clamp'"),
        ("init_out=[0.0, 0.0]", "unit option init_out="),
        ("scale={1: 2}", "unit option scale="),
        ("oops", "must be NAME=VALUE"),
        ("1x=3", "must be NAME=VALUE"),
    ],
)
def test_bad_unit_options_name_the_option(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_unit_options([text])


def test_unit_option_given_twice():
    with pytest.raises(ValueError, match="given twice"):
        parse_unit_options(["a=1", "a=2"])


def test_default_steps_by_input_size():
    assert default_steps(2) == 50_000
    assert default_steps(10) == default_steps(100) == 100_000


def test_bench_grid_is_what_the_command_builds():
    grid = bench_grid("NAU,NAC+", "add", ranges="6-7", seeds=3, first_seed=5, lr=0.01)
    assert isinstance(grid, Grid)
    assert grid.units == ("NAU", "NAC+") and grid.operations == ("add",) and grid.ranges == ("6", "7")
    assert grid.seeds == (5, 6, 7)
    template = BenchConfig(unit="NAU", operation="add", range_name="6", steps=50_000, lr=0.01)
    nac = replace(template, unit="NAC+")
    assert grid.configs == {("NAU", "add"): template.resolved(), ("NAC+", "add"): nac.resolved()}
    runs = grid.runs()
    assert len(runs) == 2 * 1 * 2 * 3
    assert runs[0] == (template.resolved(), 5)
    assert runs[-1] == (replace(nac, range_name="7").resolved(), 7)


def test_each_unit_and_operation_is_resolved_once(monkeypatch):
    resolved = []
    original = BenchConfig.resolved
    monkeypatch.setattr(BenchConfig, "resolved", lambda config: resolved.append(config) or original(config))
    runs = bench_grid("NMU,NPU", "mul,div", ranges="1-9", seeds=5, force=True).runs()
    assert len(runs) == 2 * 2 * 9 * 5 and len(resolved) == 4
    assert runs[0][0] is runs[4][0] and runs[0][0] is not runs[5][0]  # one record per range, shared by its seeds
    assert {config.lr for config, _ in runs} == {1e-3, 5e-3}  # NMU's and NPU's own, not one template's
    assert [config.force for config, _ in runs[::45]] == [False, True, False, False]  # NMU cannot divide


def test_bench_grid_takes_sequences_and_mappings():
    by_text = bench_grid(
        "NAU", "add,sub", input_size=10, ranges="1-2", seeds=2, unit_options=["regularization_start=9"]
    )
    by_sequence = bench_grid(
        ["NAU"], ["add", "sub"], input_size=10, ranges=["1", "2"], seeds=2, unit_options={"regularization_start": 9}
    )
    assert by_text == by_sequence
    assert by_text.configs["NAU", "add"].steps == 100_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(units=""), "no unit given"),
        (dict(units="NAU", ops=""), "no operation given"),
        (dict(units="NAU", ranges=" , "), "no range given"),
        (dict(units="NAU", seeds=0), "number of seeds must be at least 1"),
        (dict(units="NAU", first_seed=-1), "first seed"),
        (dict(units="NAU", steps=0), "steps.* at least 1"),
        (dict(units="NAU", ranges="9-1"), "inverted"),
        (dict(units="Foo"), "valid units:"),
        (dict(units="NAU", ops="pow"), "valid operations:"),
        (dict(units="NAU", ranges="42"), "valid ranges:"),
        (dict(units="NMU", ops="div"), "cannot represent div"),
        (dict(units="NAU", unit_options=["regularization_scale=abc"]), "regularization_scale=abc"),
        (dict(units="NAU", device="tpu"), "unknown device 'tpu'"),
    ],
)
def test_bench_grid_refuses_bad_settings(kwargs, message):
    kwargs = {"ops": "add", **kwargs}
    with pytest.raises(ValueError, match=message):
        bench_grid(**kwargs)


def test_library_exports():
    import arithnet

    assert arithnet.bench_grid is bench_grid and arithnet.range_names is range_names
    assert arithnet.load_config.__module__ == "arithnet.training.saved"
    assert arithnet.check_device("cpu") == "cpu"


def test_every_name_is_checked_before_anything_else_and_all_unknown_ones_are_named():
    # NAC* cannot do add without force, but the typo NAUU is what the line must name first.
    with pytest.raises(ValueError) as refused:
        bench_grid("NAU,NAC*,NAUU", "add")
    assert str(refused.value).startswith("unknown unit 'NAUU'; valid units: ")
    names = dict(units="NAUU,Foo>NMU", ops="add,pow", ranges="1,42", task="tsp", loss="l1", lr_schedule="steps")
    with pytest.raises(ValueError) as refused:
        bench_grid(**names, dtype="int8", device="tpu", preset="nature")
    message = str(refused.value)
    assert "\n" not in message
    for unknown in (
        "unknown units 'NAUU', 'Foo'; valid units: ",
        "unknown operation 'pow'; valid operations: add, sub, mul, div",
        "unknown range '42'; valid ranges: ",
        "unknown task 'tsp'; valid tasks: primer, iclr",
        "unknown loss 'l1'; valid losses: mse, log, projected",
        "unknown learning-rate schedule 'steps'; valid: constant, cosine",
        "unknown dtype 'int8'; valid: float32, float64",
        "unknown device 'tpu'; valid devices: cpu, cuda",
        "unknown preset 'nature'; valid presets: primer, iclr, division",
    ):
        assert unknown in message
    with pytest.raises(ValueError, match=r"unit option nope: NAU, NAC\* take no option 'nope'"):
        bench_grid("NAU,NAC*", "add", unit_options={"nope": 1})
