"""Arithmetic units as ``torch.nn.Module``s, and the one registry built from their classes."""

from __future__ import annotations

from arithnet.units.base import Unit
from arithnet.units.capabilities import CanonicalForm, LogParts, Projected, Refit, RunState, WatchesInterpolation
from arithnet.units.inalu import INALU
from arithnet.units.init import Sampler
from arithnet.units.linear_net import LinearNet
from arithnet.units.logexp import LogExp
from arithnet.units.nac import NACAdd, NACMul
from arithnet.units.nalu import NALU
from arithnet.units.nau import NAU
from arithnet.units.nmru import NMRU
from arithnet.units.nmu import NMU
from arithnet.units.npu import NPU
from arithnet.units.nru import NRU
from arithnet.units.ratio_net import RatioNet
from arithnet.units.realnpu import RealNPU
from arithnet.units.registry import UnitSpec, build_registry
from arithnet.units.square_net import SquareNet
from arithnet.units.stack import LogPartsStack, Stack, layers

#: Every unit (and variant) by its registry name.
UNITS: dict[str, UnitSpec] = build_registry(
    LinearNet,
    SquareNet,
    LogExp,
    NACAdd,
    NACMul,
    NALU,
    INALU,
    NAU,
    NMU,
    NPU,
    RealNPU,
    NRU,
    NMRU,
    RatioNet,
)


def get_unit(name: str) -> UnitSpec:
    """The registry entry called ``name``; a ValueError lists the valid names."""
    try:
        return UNITS[name]
    except KeyError:
        raise ValueError(f"unknown unit {name!r}; valid units: {', '.join(UNITS)}") from None


__all__ = [
    "INALU",
    "NALU",
    "NAU",
    "NMRU",
    "NMU",
    "NPU",
    "NRU",
    "UNITS",
    "CanonicalForm",
    "LinearNet",
    "LogExp",
    "LogParts",
    "LogPartsStack",
    "NACAdd",
    "NACMul",
    "Projected",
    "RatioNet",
    "RealNPU",
    "Refit",
    "RunState",
    "Sampler",
    "SquareNet",
    "Stack",
    "Unit",
    "UnitSpec",
    "WatchesInterpolation",
    "get_unit",
    "layers",
]
