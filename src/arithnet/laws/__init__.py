"""Laws from tables: networks of monomials and sums, trained by the engine, read out as exact formulas.

Names are imported on first use (PEP 562), so that the modules a refusal
needs (``laws.config``, ``laws.law``, ``laws.outputs``) load without torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "FitConfig": "arithnet.laws.config",
    "Stage": "arithnet.laws.config",
    "LawFit": "arithnet.laws.fit",
    "fit_law": "arithnet.laws.fit",
    "Candidate": "arithnet.laws.front",
    "Law": "arithnet.laws.law",
    "load_law": "arithnet.laws.law",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'arithnet.laws' has no attribute {name!r}")
