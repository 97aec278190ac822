"""arithnet: neural networks that learn exact arithmetic and read it out as a formula.

Names are imported on first use (PEP 562), so that a module such as
``arithnet.plots`` can be imported without importing torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "ArithmeticRegressor": "arithnet.estimator",
    "Range": "arithnet.data",
    "is_exact": "arithnet.formula",
    "read_formula": "arithnet.formula",
    "snap": "arithnet.formula",
    "OPERATIONS": "arithnet.operations",
    "get_operation": "arithnet.operations",
    "DEVICES": "arithnet.devices",
    "check_device": "arithnet.devices",
    "bench_grid": "arithnet.bench.grid",
    "default_steps": "arithnet.bench.grid",
    "parse_unit_options": "arithnet.bench.grid",
    "range_names": "arithnet.bench.grid",
    "load_config": "arithnet.training.saved",
    "RECIPES": "arithnet.training",
    "TrainConfig": "arithnet.training",
    "TrainResult": "arithnet.training",
    "train": "arithnet.training",
    "UNITS": "arithnet.units",
    "LinearNet": "arithnet.units",
    "LogExp": "arithnet.units",
    "SquareNet": "arithnet.units",
    "Unit": "arithnet.units",
    "get_unit": "arithnet.units",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'arithnet' has no attribute {name!r}")
