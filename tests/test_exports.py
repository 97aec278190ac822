"""The package's top-level names: what a user needs, every one resolves, and ``import arithnet`` loads no torch."""

from __future__ import annotations

import enum
import json
import subprocess
import sys

#: Imports arithnet in a fresh interpreter and says which modules that loaded, and which names it lists.
PROBE = """
import json, sys
import arithnet
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numpy", "sympy", "arithnet"))
print(json.dumps({"loaded": loaded, "all": arithnet.__all__, "dir": dir(arithnet)}))
"""

#: What a user of the library reaches for (README, docs/laws.md, docs/cli.md).
NEEDED = {
    "ArithmeticRegressor", "fit_law", "FitConfig", "Law", "LawFit", "load_law", "Verdict", "train", "TrainConfig",
    "TrainResult", "Range", "bench_grid", "BenchConfig", "run_grid", "ResultsStore", "markdown_summary", "UNITS",
    "Unit", "get_unit", "NAU", "NMU", "NALU", "INALU", "NACAdd", "NACMul", "NPU", "RealNPU", "NRU", "NMRU",
    "LinearNet", "LogExp", "SquareNet", "RatioNet", "Stack",
}  # fmt: skip


def probe() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_import_loads_no_torch_and_every_exported_name_resolves():
    import arithnet

    report = probe()
    assert report["loaded"] == ["arithnet", "arithnet.lazy"]  # before any name is asked for
    assert NEEDED <= set(report["all"]) and set(report["dir"]) >= NEEDED
    resolved = {name: getattr(arithnet, name) for name in report["all"]}  # each imports its module here
    assert all(value is not None for value in resolved.values())
    assert isinstance(resolved["NAU"], type) and isinstance(resolved["Verdict"], enum.EnumMeta)


def test_names_exported_before_still_work_but_are_no_longer_listed():
    import arithnet
    from arithnet.bench.grid import default_steps, parse_unit_options

    assert arithnet.default_steps is default_steps and arithnet.parse_unit_options is parse_unit_options
    assert not {"default_steps", "parse_unit_options"} & set(arithnet.__all__)


def test_top_level_names_are_the_modules_own():
    import arithnet
    from arithnet.laws import Verdict
    from arithnet.units import NAU

    assert arithnet.NAU is NAU and arithnet.Verdict is Verdict
    assert arithnet.__version__ == "0.1.0"
