"""A law as data: a small expression tree of the nodes arithnet writes, and nothing else.

A law is built from the table's input columns, numbers, π, sums, products and
powers with a rational exponent (and, for a power that keeps a sign, |·| and
sign). This tree is what law.json stores and what every evaluation reads; no
text is ever parsed as code. sympy sees a law only to print or tidy it
(``symbolic``), and builds it from these nodes, never from text.

The limits below bound what a file may ask of the reader and the evaluator:
a tree of at most MAX_NODES nodes, MAX_DEPTH deep, integers below MAX_INTEGER
and exponents p/q with |p|, q at most MAX_EXPONENT. arithnet's own laws stay
far inside them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

#: The largest tree, in nodes, and the deepest, in levels: a law of the searched class has tens of nodes.
MAX_NODES = 10_000
MAX_DEPTH = 200
#: Integers (and a rational's numerator and denominator) must be smaller than this in magnitude.
MAX_INTEGER = 10**18
#: An exponent p/q must have |p| and q at most this: powers of a monomial and of a sum are small.
MAX_EXPONENT = 1000
#: A float is written as decimal text, so that it may lie outside float64's range (a constant times 1e300²).
FLOAT_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,6})?")


@dataclass(frozen=True)
class Input:
    """One input column of the table, by its name."""

    name: str


@dataclass(frozen=True)
class Integer:
    value: int


@dataclass(frozen=True)
class Rational:
    """p/q in lowest terms, q > 1."""

    numerator: int
    denominator: int


@dataclass(frozen=True)
class Float:
    """A fitted constant, as decimal text (17 significant digits, or what the file gave)."""

    text: str


@dataclass(frozen=True)
class Pi:
    pass


@dataclass(frozen=True)
class Add:
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Mul:
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Pow:
    """base ** exponent, the exponent a number (Integer or Rational)."""

    base: Node
    exponent: Integer | Rational


@dataclass(frozen=True)
class Abs:
    arg: Node


@dataclass(frozen=True)
class Sign:
    arg: Node


Node = Input | Integer | Rational | Float | Pi | Add | Mul | Pow | Abs | Sign


def children(node: Node) -> tuple[Node, ...]:
    """The node's operands, in order."""
    if isinstance(node, Add | Mul):
        return node.args
    if isinstance(node, Pow):
        return (node.base, node.exponent)
    if isinstance(node, Abs | Sign):
        return (node.arg,)
    return ()


def walk(node: Node):
    """Every node of the tree, parents before children, without recursion (a tree may be deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def inputs_used(node: Node) -> set[str]:
    """The names of the input columns the tree reads."""
    return {n.name for n in walk(node) if isinstance(n, Input)}


def exponent_value(exponent: Integer | Rational) -> Fraction:
    if isinstance(exponent, Integer):
        return Fraction(exponent.value)
    return Fraction(exponent.numerator, exponent.denominator)


def number(value: Fraction | int) -> Integer | Rational:
    """The node of an exact number: an Integer, or a Rational in lowest terms."""
    value = Fraction(value)
    if value.denominator == 1:
        return Integer(value.numerator)
    return Rational(value.numerator, value.denominator)


def check_number_limits(node: Node) -> None:
    """ValueError unless every number of ``node`` (one node, not its children) is within the limits."""
    if isinstance(node, Integer) and abs(node.value) >= MAX_INTEGER:
        raise ValueError(f"integer {node.value} is beyond ±1e18")
    if isinstance(node, Rational):
        if node.denominator <= 1 or math.gcd(node.numerator, node.denominator) != 1:
            raise ValueError(f"rational {node.numerator}/{node.denominator} is not in lowest terms")
        if max(abs(node.numerator), node.denominator) >= MAX_INTEGER:
            raise ValueError("a rational's numerator and denominator must be below 1e18")
    if isinstance(node, Float) and not FLOAT_TEXT.fullmatch(node.text):
        raise ValueError(f"float {node.text[:40]!r} is not a decimal number")
    if isinstance(node, Pow):
        if not isinstance(node.exponent, Integer | Rational):
            raise ValueError("an exponent must be an integer or a rational")
        value = exponent_value(node.exponent)
        if abs(value.numerator) > MAX_EXPONENT or value.denominator > MAX_EXPONENT:
            raise ValueError(f"exponent {value} is beyond ±{MAX_EXPONENT} (or its denominator is)")
