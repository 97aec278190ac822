"""Paper presets: each paper's settings for each unit, task, input size and operation, with their source.

A unit's constructor defaults are one paper's setting for one task and input
size (the NMU's regularizer ramp is ICLR's 1e6 → 2e6 steps, which never
starts in a 50k-step Primer run). ``arithnet bench --preset NAME`` fills
every run's settings from ``TABLE`` instead, so that a grid reproduces the
paper. Settings the user gives explicitly win (bench.grid).

``TABLE`` is the one table: an ``Entry`` per (preset, unit, task, input
sizes, operations), each setting a ``Cited`` value that names the paper or the
reference-code line it comes from. A citation that says "from nalm.md" was
not checked against the reference code. Settings are ``BenchConfig`` fields
(``settings``) and unit options (``options``; for a stack, every layer that
takes an option gets it, as in the ICLR code). ``force`` is not stored: a run
is forced exactly where the paper ran a unit on an operation it cannot
represent, which the entry's operations (with their citation) say.

Presets (docs/presets.md):

- ``primer``: the Primer's single-module task (Mistry, Farrahi & Hare, JMLR
  2022; code bmistry4/nalm-benchmark), input 2 and 10;
- ``division``: the division paper's ÷ on the same task (Mistry, Farrahi &
  Hare 2022, arXiv 2110.05177; code bmistry4/nalm-division), input 2 and 10;
- ``iclr``: ICLR 2020's 100-input two-layer task (Madsen & Johansen; code
  AndreasMadsen/stable-nalu), with the ICLR authors' 26-element threshold
  subsets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from arithnet.operations import OPERATIONS
from arithnet.units import get_unit

PRESETS = ("primer", "iclr", "division")
#: The task, input size and ranges a preset runs when the user names none.
PRESET_TASKS: dict[str, tuple[str, int, str]] = {
    "primer": ("primer", 2, "primer"),
    "division": ("primer", 2, "primer"),
    "iclr": ("iclr", 100, "iclr"),
}
#: float32's machine epsilon, torch.finfo(torch.float32).eps: the ε of the reference code's NPU,
#: Real NPU and NMRU (nalm-benchmark, nalm-division), where arithnet's units default to 1e-7.
FLOAT32_EPS = 1.1920928955078125e-07

ALL_OPS = tuple(OPERATIONS)

# Where the settings come from (files of the reference code, at the commits fetched for this table).
PRIMER_SCRIPT = "nalm-benchmark lfs_batch_jobs/single_layer_task/benchmarking/single_layer_benchmark.sh"
PRIMER_CODE = "nalm-benchmark experiments/single_layer_benchmark.py"
DIVISION_SCRIPT_2 = "nalm-division lfs_batch_jobs/single_layer_task/neurips_2021/sltr-in2.sh"
DIVISION_SCRIPT_10 = "nalm-division lfs_batch_jobs/single_layer_task/neurips_2021/sltr-in10.sh"
DIVISION_CODE = "nalm-division experiments/single_layer.py"
ICLR_SCRIPT = "stable-nalu lfs_batch_jobs/function_task_static.sh"
ICLR_CODE = "stable-nalu experiments/simple_function_static.py"


@dataclass(frozen=True)
class Cited:
    """A setting's value and where it comes from."""

    value: Any
    citation: str


@dataclass(frozen=True)
class Entry:
    """One unit's settings in one preset, for the listed input sizes and operations."""

    preset: str
    unit: str
    task: str
    input_sizes: tuple[int, ...]
    operations: Cited  # value: the operations the paper ran the unit on
    settings: Mapping[str, Cited] = field(default_factory=dict)
    options: Mapping[str, Cited] = field(default_factory=dict)


def _primer(n: int, source: str = PRIMER_SCRIPT) -> dict[str, Cited]:
    """The single-module protocol's steps and step-0 log at input ``n`` (Primer and division paper alike)."""
    steps = 50_000 if n == 2 else 100_000
    return {
        "steps": Cited(steps, f"{source}: --max-iterations {steps}"),
        "log_step_zero": Cited(
            True,
            f"{PRIMER_CODE if source == PRIMER_SCRIPT else DIVISION_CODE}: logs at epoch_i % log_interval == 0 from 0",
        ),
    }


def _ramp(scale: float, start: int, end: int, citation: str) -> dict[str, Cited]:
    return {
        "regularization_scale": Cited(scale, citation),
        "regularization_start": Cited(start, citation),
        "regularization_end": Cited(end, citation),
    }


_NPU_GATE = {
    "gate_gradient": Cited(
        "clamp", "nalm-benchmark stable_nalu/layer/npu.py, npu_real.py: torch.clamp(self.g, 0.0, 1.0)"
    )
}
_NPU_EPS = {
    "eps": Cited(FLOAT32_EPS, "nalm-benchmark stable_nalu/layer/npu.py, npu_real.py: torch.finfo(torch.float).eps")
}
_NALU_EPS = {"eps": Cited(1e-7, "nalm-benchmark stable_nalu/network/single_layer.py: eps=1e-7 (not passed)")}
_L1_MUL = {
    "l1_start": Cited(1e-7, f"{PRIMER_SCRIPT}: --regualizer-beta-start 1e-7"),
    "l1_end": Cited(1e-5, f"{PRIMER_SCRIPT}: --regualizer-beta-end 1e-5"),
}
_L1_DIV = {
    "l1_start": Cited(1e-9, f"{PRIMER_SCRIPT}: --regualizer-beta-start 1e-9"),
    "l1_end": Cited(1e-7, f"{PRIMER_SCRIPT}: --regualizer-beta-end 1e-7"),
}
_LR_DEFAULT = {"lr": Cited(1e-3, f"{PRIMER_CODE}: --learning-rate default 1e-3")}
_LR_NPU = {"lr": Cited(5e-3, f"{PRIMER_SCRIPT}: --learning-rate 5e-3")}
_NMRU_EPS = {
    "eps": Cited(FLOAT32_EPS, "nalm-division concat_reciprocal_nmu_sign_retrieval.py: torch.finfo(torch.float).eps")
}
_NMRU_TRAINING = {
    "lr": Cited(1e-2, f"{DIVISION_SCRIPT_2}, {DIVISION_SCRIPT_10}: SignNMRU --learning-rate 1e-2"),
    "clip_grad_norm": Cited(1.0, f"{DIVISION_SCRIPT_2}, {DIVISION_SCRIPT_10}: SignNMRU --clip-grad-norm 1"),
}
_UNCLEAR_OPS = (
    "the Primer's code (nalm-benchmark) runs no {unit}: operations unclear, so all four (arithnet's fallback)"
)


def _realnpu_mod(n: int, source: str) -> dict[str, Cited]:
    """The modified Real NPU's unit options (division paper) at input ``n``."""
    start, end = (40_000, 50_000) if n == 2 else (50_000, 75_000)
    return {
        **_ramp(1.0, start, end, f"{source}: --regualizer-npu-w 1 --regualizer-gate 1 "
                f"--regualizer-scaling-start {start} --regualizer-scaling-end {end}"),
        "l1_start": Cited(1e-9, f"{source}: --regualizer-beta-start 1e-9"),
        "l1_end": Cited(1e-7, f"{source}: --regualizer-beta-end 1e-7"),
        "gate_gradient": Cited("clamp", "nalm-division stable_nalu/layer/npu_real.py: torch.clamp(self.g, 0.0, 1.0)"),
        "eps": Cited(FLOAT32_EPS, "nalm-division stable_nalu/layer/npu_real.py: torch.finfo(torch.float).eps"),
    }  # fmt: skip


def _nru(n: int, source: str) -> tuple[dict[str, Cited], dict[str, Cited]]:
    """The NRU's (settings, options) at input ``n`` (division paper)."""
    if n == 2:
        lr = Cited(1.0, f"from nalm.md (lr 1, sic); {DIVISION_SCRIPT_2} sweeps lr 1e-3, 1e-2, 1e-1 beside the main run")
    else:
        lr = Cited(1e-3, f"{DIVISION_SCRIPT_10}: no --learning-rate, {DIVISION_CODE} default 1e-3")
    start, end = (20_000, 35_000) if n == 2 else (50_000, 75_000)
    ramp = f"{source}: --regualizer-scaling-start {start} --regualizer-scaling-end {end}; --regualizer default 10"
    return {"lr": lr}, _ramp(10.0, start, end, ramp)


def _nmru(n: int, source: str) -> dict[str, Cited]:
    """The NMRU's unit options at input ``n`` (division paper)."""
    start, end = (20_000, 35_000) if n == 2 else (50_000, 75_000)
    ramp = f"{source}: --regualizer-scaling-start {start} --regualizer-scaling-end {end}; --regualizer default 10"
    return {**_ramp(10.0, start, end, ramp), **_NMRU_EPS}


def _primer_entries() -> list[Entry]:
    """The Primer's single-module benchmark: every unit of the field, input 2 and 10."""
    nac_ops = Cited(("add", "sub"), f"{PRIMER_SCRIPT}: --layer-type NAC on add, sub")
    mnac_ops = Cited(("mul", "div"), f"{PRIMER_SCRIPT}: --layer-type MNAC on mul, div")
    all_ops = Cited(ALL_OPS, f"{PRIMER_SCRIPT}: run on add, sub, mul and div")
    entries = [
        Entry("primer", "NAC+", "primer", (2,), nac_ops, {**_primer(2), **_LR_DEFAULT}),
        Entry("primer", "NAC+", "primer", (10,), nac_ops, {**_primer(10), **_LR_DEFAULT}),
        Entry("primer", "NAC*", "primer", (2,), mnac_ops, {**_primer(2), **_LR_DEFAULT}, _NALU_EPS),
        Entry("primer", "NAC*", "primer", (10,), mnac_ops, {**_primer(10), **_LR_DEFAULT}, _NALU_EPS),
        Entry("primer", "NALU", "primer", (2,), all_ops, {**_primer(2), **_LR_DEFAULT}, _NALU_EPS),
        Entry("primer", "NALU", "primer", (10,), all_ops, {**_primer(10), **_LR_DEFAULT}, _NALU_EPS),
        Entry("primer", "G-NALU", "primer", (2,), all_ops, {**_primer(2), **_LR_DEFAULT}, _NALU_EPS),
        Entry("primer", "G-NALU", "primer", (10,), all_ops, {**_primer(10), **_LR_DEFAULT}, _NALU_EPS),
    ]
    inalu = {
        **_LR_DEFAULT,
        "clip_grad_value": Cited(0.1, f"{PRIMER_SCRIPT}: iNALU --clip-grad-value 0.1"),
    }
    restart = {
        "restart_rule": Cited("primer", f"{PRIMER_SCRIPT}: iNALU --reinit; nalm.md: the Primer's numbers use its rule")
    }
    steps_10 = Cited(100_000, "from nalm.md (100k for input 10); the one input-10 iNALU line of "
                  f"{PRIMER_SCRIPT} says --max-iterations 50000")  # fmt: skip
    entries += [
        Entry("primer", "iNALU", "primer", (2,), all_ops, {**_primer(2), **inalu}, restart),
        Entry("primer", "iNALU", "primer", (10,), all_ops, {**_primer(10), **inalu, "steps": steps_10}, restart),
    ]
    entries += _primer_nau_nmu() + _primer_npus() + _primer_division_units()
    return entries


def _primer_nau_nmu() -> list[Entry]:
    nau_ops = Cited(("add", "sub"), f"{PRIMER_SCRIPT}: ReRegualizedLinearNAC on add, sub")
    nmu_ops = Cited(("mul",), f"{PRIMER_SCRIPT}: ReRegualizedLinearMNAC on mul")
    nau_2 = _ramp(0.01, 20_000, 35_000, f"{PRIMER_SCRIPT}: --regualizer 0.01 --regualizer-scaling-start 20000 "
                  "--regualizer-scaling-end 35000")  # fmt: skip
    nau_10 = _ramp(0.01, 50_000, 75_000, f"{PRIMER_SCRIPT}: sltr-in10 NAU --regualizer 0.01 "
                   "--regualizer-scaling-start 50000 --regualizer-scaling-end 75000")  # fmt: skip
    nmu_2 = _ramp(10.0, 20_000, 35_000, f"{PRIMER_SCRIPT}: --regualizer-scaling-start 20000 "
                  f"--regualizer-scaling-end 35000; {PRIMER_CODE}: --regualizer default 10")  # fmt: skip
    nmu_10 = _ramp(10.0, 50_000, 75_000, "from nalm.md (Primer input 10: 50k -> 75k; λ 10)")
    return [
        Entry("primer", "NAU", "primer", (2,), nau_ops, {**_primer(2), **_LR_DEFAULT}, nau_2),
        Entry("primer", "NAU", "primer", (10,), nau_ops, {**_primer(10), **_LR_DEFAULT}, nau_10),
        Entry("primer", "NMU", "primer", (2,), nmu_ops, {**_primer(2), **_LR_DEFAULT}, nmu_2),
        Entry("primer", "NMU", "primer", (10,), nmu_ops, {**_primer(10), **_LR_DEFAULT}, nmu_10),
    ]


def _primer_npus() -> list[Entry]:
    entries = []
    for unit in ("NPU", "RealNPU"):
        for n in (2, 10):
            mul, div = (Cited((op,), f"{PRIMER_SCRIPT}: --layer-type {unit} on {op}") for op in ("mul", "div"))
            settings = {**_primer(n), **_LR_NPU}
            entries.append(Entry("primer", unit, "primer", (n,), mul, settings, {**_L1_MUL, **_NPU_GATE, **_NPU_EPS}))
            entries.append(Entry("primer", unit, "primer", (n,), div, settings, {**_L1_DIV, **_NPU_GATE, **_NPU_EPS}))
    return entries


def _primer_division_units() -> list[Entry]:
    """The division paper's units on the Primer task: the Primer's code has none, so every operation."""
    entries = []
    for n, source in ((2, DIVISION_SCRIPT_2), (10, DIVISION_SCRIPT_10)):
        lr_npu = {"lr": Cited(5e-3, f"{source}: --learning-rate 5e-3")}
        ops = {unit: Cited(ALL_OPS, _UNCLEAR_OPS.format(unit=unit)) for unit in ("RealNPU-mod", "NRU", "NMRU")}
        nru_settings, nru_options = _nru(n, source)
        entries += [
            Entry("primer", "RealNPU-mod", "primer", (n,), ops["RealNPU-mod"], {**_primer(n, source), **lr_npu},
                  _realnpu_mod(n, source)),
            Entry("primer", "NRU", "primer", (n,), ops["NRU"], {**_primer(n, source), **nru_settings}, nru_options),
            Entry("primer", "NMRU", "primer", (n,), ops["NMRU"], {**_primer(n, source), **_NMRU_TRAINING},
                  _nmru(n, source)),
        ]  # fmt: skip
    return entries


def _division_entries() -> list[Entry]:
    """The division paper: ÷ on the Primer task, input 2 and 10 (NPU only in an appendix, with constraints
    arithnet's NPU does not have, so not here)."""
    entries = []
    for n, source in ((2, DIVISION_SCRIPT_2), (10, DIVISION_SCRIPT_10)):
        div = {unit: Cited(("div",), f"{source}: {unit} on div") for unit in ("RealNPU", "RealNPU-mod", "NRU", "NMRU")}
        lr_npu = {"lr": Cited(5e-3, f"{source}: --learning-rate 5e-3")}
        baseline = {
            "l1_start": Cited(1e-9, f"{source}: realnpu_baseline --regualizer-beta-start 1e-9"),
            "l1_end": Cited(1e-7, f"{source}: realnpu_baseline --regualizer-beta-end 1e-7"),
            "gate_gradient": Cited(
                "clamp", "nalm-division stable_nalu/layer/npu_real.py: torch.clamp(self.g, 0.0, 1.0)"
            ),
            "eps": Cited(FLOAT32_EPS, "nalm-division stable_nalu/layer/npu_real.py: torch.finfo(torch.float).eps"),
        }
        nru_settings, nru_options = _nru(n, source)
        protocol = _primer(n, source)
        entries += [
            Entry("division", "RealNPU", "primer", (n,), div["RealNPU"], {**protocol, **lr_npu}, baseline),
            Entry("division", "RealNPU-mod", "primer", (n,), div["RealNPU-mod"], {**protocol, **lr_npu},
                  _realnpu_mod(n, source)),
            Entry("division", "NRU", "primer", (n,), div["NRU"], {**protocol, **nru_settings}, nru_options),
            Entry("division", "NMRU", "primer", (n,), div["NMRU"], {**protocol, **_NMRU_TRAINING}, _nmru(n, source)),
        ]  # fmt: skip
    return entries + _division_nmru_ablation()


def _division_nmru_ablation() -> list[Entry]:
    """The NMRU ablation of the division paper's appendix: input 10 only."""
    vanilla = {
        **_primer(10, DIVISION_SCRIPT_10),
        "lr": Cited(1e-2, f"{DIVISION_SCRIPT_10}: nmru-extra/nmru --learning-rate 1e-2"),
        "clip_grad_norm": Cited(0.0, f"{DIVISION_SCRIPT_10}: nmru-extra/nmru has no --clip-grad-norm (0: none)"),
    }
    gated = {
        **_primer(10, DIVISION_SCRIPT_10),
        "lr": Cited(1e-2, f"{DIVISION_SCRIPT_10}: GatedSignNMRU --learning-rate 1e-2"),
        "clip_grad_norm": Cited(1.0, f"{DIVISION_SCRIPT_10}: GatedSignNMRU --clip-grad-norm 1"),
    }
    eps = {"eps": Cited(FLOAT32_EPS, "nalm-division concat_reciprocal_nmu*.py: torch.finfo(torch.float).eps")}
    options = {**_nmru(10, DIVISION_SCRIPT_10), **eps}
    gate = {"gate_regularization": Cited(1.0, f"{DIVISION_SCRIPT_10}: GatedSignNMRU --regualizer-gate 1")}
    return [
        Entry("division", "NMRU-vanilla", "primer", (10,), Cited(("div",), f"{DIVISION_SCRIPT_10}: NMRU on div"),
              vanilla, options),
        Entry("division", "NMRU-gated", "primer", (10,), Cited(("div",), f"{DIVISION_SCRIPT_10}: GatedSignNMRU on div"),
              gated, {**options, **gate}),
    ]  # fmt: skip


def _iclr_entries() -> list[Entry]:
    """ICLR 2020's task: 100 inputs, two layers, 5·10^6 steps; both layers share one λ and one ramp."""
    protocol = {
        "steps": Cited(5_000_000, f"{ICLR_SCRIPT}: --max-iterations 5000000"),
        "lr": Cited(1e-3, f"{ICLR_CODE}: --learning-rate default 1e-3"),
        "hidden": Cited(2, f"{ICLR_CODE}: --hidden-size default 2"),
        "log_step_zero": Cited(True, f"{ICLR_CODE}: logs at epoch_i % 1000 == 0 from epoch 0"),
        "threshold_subsets": Cited("published", "stable-nalu export/function_task_static_mse_expectation.r: "
                                "inclusive a.start:a.end, 26 elements"),
    }  # fmt: skip
    all_ops = {layer: Cited(ALL_OPS, f"{ICLR_SCRIPT}: {layer}, operations add sub mul div") for layer in (
        "ReRegualizedLinearNAC", "ReRegualizedLinearNAC --nac-mul mnac", "NAC", "NAC --nac-mul normal", "NALU",
        "linear")}  # fmt: skip
    eps = {"eps": Cited(1e-7, "stable-nalu stable_nalu/network/simple_function_static.py: eps=1e-7")}
    nau = _ramp(0.01, 5_000, 50_000, f"{ICLR_SCRIPT}: --regualizer 0.01 --regualizer-scaling-start 5000 "
                "--regualizer-scaling-end 50000 (both layers)")  # fmt: skip
    nmu = _ramp(10.0, 1_000_000, 2_000_000, f"{ICLR_CODE}: --regualizer 10, --regualizer-scaling-start 1000000, "
                "--regualizer-scaling-end 2000000 by default (both layers)")  # fmt: skip
    nmru = _ramp(10.0, 1_000_000, 2_000_000, "arithnet's: no paper ran a ÷ unit on this task; NAU>NMU's λ and ramp")
    return [
        Entry("iclr", "NAU>NAU", "iclr", (100,), all_ops["ReRegualizedLinearNAC"], protocol, nau),
        Entry("iclr", "NAU>NMU", "iclr", (100,), all_ops["ReRegualizedLinearNAC --nac-mul mnac"], protocol, nmu),
        Entry("iclr", "NAC+>NAC+", "iclr", (100,), all_ops["NAC"], protocol),
        Entry("iclr", "NAC+>NAC*", "iclr", (100,), all_ops["NAC --nac-mul normal"], protocol, eps),
        Entry("iclr", "NALU>NALU", "iclr", (100,), all_ops["NALU"], protocol, eps),
        Entry("iclr", "LinearNet>LinearNet", "iclr", (100,), all_ops["linear"], protocol),
        Entry("iclr", "NAU>NMRU", "iclr", (100,), Cited(("div",), "arithnet's ÷ stack: no paper ran it"), protocol,
              {**nmru, **_NMRU_EPS}),
    ]  # fmt: skip


#: The one table of every preset's settings.
TABLE: tuple[Entry, ...] = (*_primer_entries(), *_division_entries(), *_iclr_entries())


# -- lookups --------------------------------------------------------------------------
def check_preset(name: str) -> None:
    """Raise ValueError unless ``name`` is a preset."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")


def find_entry(preset: str, unit: str, task: str, input_size: int, operation: str) -> Entry:
    """The table's entry for a run; a ValueError names what the preset covers instead."""
    check_preset(preset)
    where = f"{unit} on {operation} at input {input_size}"
    if task != PRESET_TASKS[preset][0]:
        where += f" of the {task} task (it runs the {PRESET_TASKS[preset][0]} task)"
    candidates = [entry for entry in TABLE if entry.preset == preset and entry.unit == unit]
    if not candidates:
        units = ", ".join(dict.fromkeys(entry.unit for entry in TABLE if entry.preset == preset))
        raise ValueError(f"preset {preset} does not cover {where}: it covers the units {units}")
    for entry in candidates:
        if entry.task == task and input_size in entry.input_sizes and operation in entry.operations.value:
            return entry
    sizes: dict[tuple[str, ...], list[int]] = {}
    for entry in candidates:
        sizes.setdefault(entry.operations.value, []).extend(entry.input_sizes)
    covered = "; ".join(f"{', '.join(ops)} at input {', '.join(map(str, n))}" for ops, n in sizes.items())
    raise ValueError(f"preset {preset} does not cover {where}: it covers {unit} on {covered}")


def covered_operations(preset: str, unit: str, task: str, input_size: int) -> tuple[str, ...]:
    """The operations ``preset`` runs ``unit`` on for this task and input size, in the field's order.

    A unit, task or input size the preset does not cover is a ValueError naming what it covers.
    """
    operations = [
        operation
        for entry in TABLE
        if entry.preset == preset and entry.unit == unit and entry.task == task and input_size in entry.input_sizes
        for operation in entry.operations.value
    ]
    if not operations:
        find_entry(preset, unit, task, input_size, "add")  # raises, saying what the preset covers
    return tuple(op for op in ("add", "sub", "mul", "div") if op in operations)


def forced(unit: str, operation: str) -> bool:
    """Whether a run of ``unit`` (its last layer, for a stack) on ``operation`` must be forced: it cannot represent it.

    ValueError naming the valid units if ``unit`` has a layer that is not one.
    """
    return operation not in get_unit(unit.split(">")[-1]).operations


def preset_settings(preset: str, unit: str, task: str, input_size: int, operation: str) -> dict[str, Any]:
    """``BenchConfig`` fields of a run under ``preset``: its settings, ``unit_options``, ``force`` and ``preset``."""
    entry = find_entry(preset, unit, task, input_size, operation)
    settings = {name: cited.value for name, cited in entry.settings.items()}
    options = tuple((name, cited.value) for name, cited in entry.options.items())
    return {**settings, "unit_options": options, "force": forced(unit, operation), "preset": preset}


def preset_rows(preset: str) -> list[tuple[str, str, str, str, str, str, str]]:
    """The table of one preset as text rows: unit, task, input size, operations, setting, value, citation."""
    check_preset(preset)
    rows = []
    for entry in TABLE:
        if entry.preset != preset:
            continue
        head = (entry.unit, entry.task, ", ".join(map(str, entry.input_sizes)), ", ".join(entry.operations.value))
        rows.append((*head, "operations", ", ".join(entry.operations.value), entry.operations.citation))
        must_force = [op for op in entry.operations.value if forced(entry.unit, op)]
        if must_force:
            why = f"{entry.unit} cannot represent them; the paper ran it there"
            rows.append((*head, "force", ", ".join(must_force), why))
        for kind in (entry.settings, entry.options):
            rows.extend((*head, name, repr(cited.value), cited.citation) for name, cited in kind.items())
    return rows
