"""arithnet: neural networks that learn exact arithmetic and read it out as a formula.

What a user of the library needs is named here: training the seed task
(``train``, ``TrainConfig``), laws from tables (``fit_law``, ``FitConfig``,
``Law``, ``load_law``, ``Verdict``, ``ArithmeticRegressor``), the field's
benchmark (``bench_grid``, ``run_grid``, ``ResultsStore``) and every unit by its
class name (``NAU``, ``NMU``, ``LogExp``, …; ``UNITS`` by registry name).

Names are imported on first use (PEP 562), so ``import arithnet`` imports
no torch and no module of the package but ``arithnet.lazy`` (tests/test_exports.py).
"""

from __future__ import annotations

from arithnet.lazy import lazy_exports

__version__ = "0.1.0"

_UNIT_CLASSES = (
    "INALU",
    "NALU",
    "NAU",
    "NMRU",
    "NMU",
    "NPU",
    "NRU",
    "LinearNet",
    "LogExp",
    "NACAdd",
    "NACMul",
    "RatioNet",
    "RealNPU",
    "SquareNet",
    "Stack",
)

_EXPORTS = {
    # the seed task: train a unit to do one operation exactly, and judge every seed
    **dict.fromkeys(("RECIPES", "TrainConfig", "TrainResult", "train"), "arithnet.training"),
    "load_config": "arithnet.training.saved",
    "Range": "arithnet.data",
    **dict.fromkeys(("OPERATIONS", "get_operation"), "arithnet.operations"),
    **dict.fromkeys(("DEVICES", "check_device"), "arithnet.devices"),
    **dict.fromkeys(("is_exact", "read_formula", "snap"), "arithnet.formula"),
    # laws from tables
    **dict.fromkeys(("FitConfig", "Law", "LawFit", "Verdict", "fit_law", "load_law"), "arithnet.laws"),
    "ArithmeticRegressor": "arithnet.estimator",
    # the field's benchmark
    **dict.fromkeys(("BenchConfig",), "arithnet.bench.protocol"),
    **dict.fromkeys(("Grid", "bench_grid", "range_names"), "arithnet.bench.grid"),
    **dict.fromkeys(("ResultsStore", "run_grid"), "arithnet.bench.run"),
    "markdown_summary": "arithnet.bench.report",
    # the units
    **dict.fromkeys(("UNITS", "Unit", "get_unit", *_UNIT_CLASSES), "arithnet.units"),
}

#: Names arithnet exported before and still resolves, no longer listed: helpers of ``arithnet.bench``.
_KEPT = dict.fromkeys(("default_steps", "parse_unit_options"), "arithnet.bench.grid")

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, {**_EXPORTS, **_KEPT})


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
