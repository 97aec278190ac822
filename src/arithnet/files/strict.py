"""Strict JSON: no NaN, no Infinity, which other languages' parsers refuse."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(value: Any) -> Any:
    """``value`` with every float inside it (dicts, lists, tuples) that is not finite replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_or_none(item) for item in value]
    if isinstance(value, tuple):
        return tuple(finite_or_none(item) for item in value)
    return value


def strict_json(value: Any, indent: int | None = None, ensure_ascii: bool = True) -> str:
    """``value`` as strict JSON text: a float that is not finite is written as null."""
    return json.dumps(finite_or_none(value), indent=indent, allow_nan=False, ensure_ascii=ensure_ascii)
