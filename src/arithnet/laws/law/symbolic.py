"""Between a law's tree and sympy: sympy prints, tidies and compares laws; the tree is what is stored and evaluated.

Both directions build objects node by node: sympy never reads text here. An
input column is a sympy Symbol with the column's name (sympy takes any text
as a name); a sympy expression with anything the tree does not hold (another
function, a symbol in an exponent, an infinity) is refused with ValueError.
"""

from __future__ import annotations

import math

import sympy
from sympy.printing.str import StrPrinter

from arithnet.laws.law.names import latex_name, printed
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
    check_number_limits,
    children,
    walk,
)

#: Significant digits of a fitted constant as sympy holds it: a float64's 15 (as printed), 17 beyond its range.
PRINTED_DIGITS = 15
EXTENDED_DIGITS = 17


def to_sympy(tree: Node) -> sympy.Expr:
    """The sympy expression of a tree, inputs as Symbols named like the columns (built bottom-up, no recursion)."""
    done: dict[int, sympy.Expr] = {}
    for node in reversed(list(walk(tree))):
        done[id(node)] = _sympy_one(node, [done[id(child)] for child in children(node)])
    return done[id(tree)]


def _sympy_one(node: Node, parts: list[sympy.Expr]) -> sympy.Expr:
    if isinstance(node, Input):
        return sympy.Symbol(node.name)
    if isinstance(node, Integer):
        return sympy.Integer(node.value)
    if isinstance(node, Rational):
        return sympy.Rational(node.numerator, node.denominator)
    if isinstance(node, Float):
        value = float(node.text)
        ordinary = math.isfinite(value) and (value != 0 or float(sympy.Rational(node.text)) == 0)
        return sympy.Float(node.text, PRINTED_DIGITS if ordinary else EXTENDED_DIGITS)
    if isinstance(node, Pi):
        return sympy.pi
    if isinstance(node, Add):
        return sympy.Add(*parts)
    if isinstance(node, Mul):
        return sympy.Mul(*parts)
    if isinstance(node, Pow):
        return sympy.Pow(parts[0], parts[1])
    if isinstance(node, Abs):
        return sympy.Abs(parts[0])
    return sympy.sign(parts[0])


def from_sympy(expr: sympy.Expr) -> Node:
    """The tree of a sympy expression of the searched class; ValueError for anything else."""
    done: dict[int, Node] = {}
    for node in reversed(list(sympy.preorder_traversal(expr))):
        done[id(node)] = _node_of(node, [done[id(arg)] for arg in node.args])
    tree = done[id(expr)]
    for node in walk(tree):
        check_number_limits(node)
    return tree


def _node_of(expr: sympy.Basic, parts: list[Node]) -> Node:
    if isinstance(expr, sympy.Symbol):
        return Input(expr.name)
    if isinstance(expr, sympy.Integer):
        return Integer(int(expr))
    if isinstance(expr, sympy.Rational):
        return Rational(int(expr.p), int(expr.q))
    if isinstance(expr, sympy.Float):
        return Float(float_text(expr))
    if expr is sympy.pi:
        return Pi()
    if isinstance(expr, sympy.Add):
        return Add(tuple(parts))
    if isinstance(expr, sympy.Mul):
        return Mul(tuple(parts))
    if isinstance(expr, sympy.Pow) and isinstance(parts[1], Integer | Rational):
        return Pow(parts[0], parts[1])
    if isinstance(expr, sympy.Abs):
        return Abs(parts[0])
    if isinstance(expr, sympy.sign):
        return Sign(parts[0])
    raise ValueError(f"a law holds only inputs, numbers, π, +, ×, rational powers, |·| and sign, not {expr}")


def float_text(value: sympy.Float) -> str:
    """A float's decimal text: repr of the float64 where it is one, else sympy's value to 17 digits."""
    as_float = float(value)
    if math.isfinite(as_float) and (as_float != 0 or value == 0):
        return repr(as_float)
    return sympy.Float(value, EXTENDED_DIGITS).__str__()


class LawPrinter(StrPrinter):
    """sympy's text printer, with each column's name written unambiguously (``names.printed``)."""

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return printed(expr.name)


def text(expr: sympy.Expr) -> str:
    return LawPrinter().doprint(expr)


def latex(expr: sympy.Expr) -> str:
    names = {symbol: latex_name(symbol.name) for symbol in expr.free_symbols}
    return sympy.latex(expr, symbol_names=names)
