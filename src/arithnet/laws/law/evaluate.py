"""A law's values on rows of its inputs, in float64 numpy, at any scale.

``evaluate(tree, columns)`` walks the tree once per call. It first computes
in plain float64; if any step overflows or underflows (a column of size 1e300
squared, a constant of 1e-600), it computes again with every value split
into a float64 mantissa and an integer power of two (``Split``), so that a
law in columns of any magnitude gives its value wherever that value is itself
a float64. Rounding is float64's in both: the mantissas are multiplied, added
and raised as floats.

Semantics, the same as sympy's for real numbers: a negative number to a power
that is not an integer is not real, and gives NaN; so does a division by
zero. Every value that is not a finite float64 comes out as NaN: NaN means
"the law is not defined on this row".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from arithnet.laws.law.tree import (
    Abs,
    Add,
    Float,
    Input,
    Integer,
    Mul,
    Node,
    Pi,
    Pow,
    Rational,
    Sign,
    children,
    exponent_value,
    walk,
)

#: Exponents of two beyond these are 0 and ∞ in every float64 (the smallest subnormal is 2^−1074).
EXPONENT_CLIP = 1200


def evaluate(tree: Node, columns: Mapping[str, np.ndarray], n_rows: int | None = None) -> np.ndarray:
    """The law on ``n_rows`` rows (B,), float64, NaN where it is not defined; ``columns`` maps input names to (B,)."""
    if n_rows is None:
        n_rows = len(next(iter(columns.values()))) if columns else 1
    overflowed: list[str] = []
    with np.errstate(over="call", under="call", divide="ignore", invalid="ignore", call=_recorder(overflowed)):
        values = _run(tree, lambda node, parts: _plain(node, parts, columns, n_rows))
    if overflowed:
        with np.errstate(all="ignore"):
            split = _run(tree, lambda node, parts: _split_step(node, parts, columns, n_rows))
            values = np.ldexp(split.mantissa, np.clip(split.exponent, -EXPONENT_CLIP, EXPONENT_CLIP))
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), (n_rows,))
    return np.where(np.isfinite(values), values, np.nan)


def _recorder(record: list[str]) -> Callable[[str, int], None]:
    def called(kind: str, flag: int) -> None:
        record.append(kind)

    return called


def _run(tree: Node, step: Callable):
    """Bottom-up over the tree with an explicit stack: ``step(node, operand values)`` per node."""
    done: dict[int, object] = {}
    for node in reversed(list(walk(tree))):
        done[id(node)] = step(node, [done[id(child)] for child in children(node)])
    return done[id(tree)]


# Plain float64 ----------------------------------------------------------------------------------------------------


def _plain(node: Node, parts: list, columns: Mapping[str, np.ndarray], n_rows: int):
    if isinstance(node, Input):
        return np.asarray(columns[node.name], dtype=np.float64)
    if isinstance(node, Integer | Rational):
        return float(exponent_value(node))
    if isinstance(node, Float):
        return _float_value(node.text)
    if isinstance(node, Pi):
        return math.pi
    if isinstance(node, Add):
        return sum(parts[1:], parts[0])
    if isinstance(node, Mul):
        return math.prod(parts[1:], start=parts[0])
    if isinstance(node, Pow):
        return _plain_power(np.asarray(parts[0], dtype=np.float64), exponent_value(node.exponent))
    if isinstance(node, Abs):
        return np.abs(parts[0])
    if isinstance(node, Sign):
        return np.sign(parts[0])
    raise TypeError(f"not a law node: {node!r}")


def _plain_power(base: np.ndarray, power: Fraction) -> np.ndarray:
    if power.denominator == 1:
        return np.power(base, float(power.numerator))
    # A negative base gives NaN in both: sqrt and a fractional power of a negative float are not real.
    root = np.sqrt(base) if power.denominator == 2 else np.power(base, 1.0 / power.denominator)
    return root ** float(power.numerator)


def _float_value(text: str) -> float:
    """The float64 of a decimal; a value beyond float64's range signals over- or underflow, as arithmetic would."""
    value = float(text)
    exact = Fraction(text)
    if (value == 0 and exact != 0) or math.isinf(value):
        np.multiply(np.float64(1e300), np.float64(1e300))  # let the caller's errstate see the overflow
    return value


# Split: float64 mantissa × 2^integer ----------------------------------------------------------------------------


@dataclass
class Split:
    """value = mantissa · 2^exponent, the mantissa in [0.5, 1) (or 0, ±∞, NaN), arrays (B,) or scalars."""

    mantissa: np.ndarray
    exponent: np.ndarray

    @classmethod
    def of(cls, values) -> Split:
        mantissa, exponent = np.frexp(np.asarray(values, dtype=np.float64))
        return cls(mantissa, exponent.astype(np.int64))

    def normalised(self) -> Split:
        mantissa, shift = np.frexp(self.mantissa)
        return Split(mantissa, self.exponent + shift.astype(np.int64))


def _split_step(node: Node, parts: list[Split], columns: Mapping[str, np.ndarray], n_rows: int) -> Split:
    if isinstance(node, Input):
        return Split.of(columns[node.name])
    if isinstance(node, Integer | Rational | Pi):
        return Split.of(math.pi if isinstance(node, Pi) else float(exponent_value(node)))
    if isinstance(node, Float):
        return _split_decimal(node.text)
    if isinstance(node, Mul):
        return _split_product(parts)
    if isinstance(node, Add):
        return _split_sum(parts)
    if isinstance(node, Pow):
        return _split_power(parts[0], exponent_value(node.exponent))
    if isinstance(node, Abs):
        return Split(np.abs(parts[0].mantissa), parts[0].exponent)
    return Split.of(np.sign(parts[0].mantissa))  # Sign


def _split_decimal(text: str) -> Split:
    exact = Fraction(text)
    if exact == 0:
        return Split.of(0.0)
    exponent = exact.numerator.bit_length() - exact.denominator.bit_length()
    mantissa = float(exact / Fraction(2) ** exponent)  # in (0.25, 4): a float whatever the decimal exponent
    return Split(np.asarray(mantissa), np.asarray(exponent, dtype=np.int64)).normalised()


def _split_product(parts: list[Split]) -> Split:
    mantissa, exponent = parts[0].mantissa, parts[0].exponent
    for part in parts[1:]:
        mantissa, exponent = mantissa * part.mantissa, exponent + part.exponent
        normal = Split(mantissa, exponent).normalised()
        mantissa, exponent = normal.mantissa, normal.exponent
    return Split(mantissa, exponent)


def _split_sum(parts: list[Split]) -> Split:
    exponents = np.broadcast_arrays(*[np.where(p.mantissa != 0, p.exponent, np.iinfo(np.int64).min) for p in parts])
    top = np.max(np.stack(exponents), 0)
    top = np.where(top == np.iinfo(np.int64).min, 0, top)
    total = sum(np.ldexp(p.mantissa, np.clip(p.exponent - top, -EXPONENT_CLIP, 0)) for p in parts)
    return Split(total, top).normalised()


def _split_power(base: Split, power: Fraction) -> Split:
    scaled = base.exponent * power.numerator
    whole = np.floor_divide(scaled, power.denominator)
    rest = (scaled - whole * power.denominator) / power.denominator  # in [0, 1)
    magnitude = np.abs(base.mantissa) ** float(power) * np.exp2(rest)
    if power.denominator == 1:
        sign = np.where(base.mantissa < 0, (-1.0) ** (power.numerator % 2), 1.0)
    else:
        sign = np.where(base.mantissa < 0, np.nan, 1.0)
    return Split(sign * magnitude, whole).normalised()
