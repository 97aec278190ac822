"""A package's names imported on first use (PEP 562), so that importing the package imports none of its modules.

Used by the packages whose modules must stay light to import: a bench worker
imports ``arithnet.bench.run.workers`` before it loads torch, which it must
not wait for while its parent may tell it to stop.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``exports`` (name → module) when asked."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
