"""arithnet: neural networks that learn exact arithmetic and read it out as a formula."""

from arithnet.data import Range
from arithnet.formula import is_exact, read_formula, snap
from arithnet.operations import OPERATIONS, get_operation
from arithnet.training import RECIPES, TrainConfig, TrainResult, train
from arithnet.units import UNITS, LinearNet, LogExp, SquareNet, Unit, get_unit

__version__ = "0.1.0"

__all__ = [
    "OPERATIONS",
    "RECIPES",
    "UNITS",
    "LinearNet",
    "LogExp",
    "Range",
    "SquareNet",
    "TrainConfig",
    "TrainResult",
    "Unit",
    "get_operation",
    "get_unit",
    "is_exact",
    "read_formula",
    "snap",
    "train",
]
