"""The checks every configuration makes of its numbers, each a one-line ValueError.

Torch-free, so that a configuration (``FitConfig``, ``TrainConfig``) refuses
a bad value before anything imports torch.
"""

from __future__ import annotations

import math


def check_positive(name: str, value: float | None, allow_none: bool = False) -> None:
    """Raise ValueError unless ``value`` is a finite number above 0 (or None where allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above 0, got {value!r}")


def check_count(name: str, value: int, minimum: int = 1) -> None:
    """Raise ValueError unless ``value`` is an integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")


def check_at_most(what: str, value: int, limit: int, hint: str = "") -> None:
    """Raise ValueError if ``value`` is above ``limit``: "WHAT is VALUE, more than the limit of LIMIT"."""
    if value > limit:
        raise ValueError(f"{what} is {value:,}, more than the limit of {limit:,}{hint}")


def check_flag(name: str, value: object) -> None:
    """Raise ValueError unless ``value`` is True or False (a saved "yes" is neither)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
