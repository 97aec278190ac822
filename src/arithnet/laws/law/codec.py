"""The tree in law.json: each node one JSON object with one key, read back by a parser that takes only these.

    {"input": "a"}            an input column, which the file must declare
    {"integer": 3}            {"rational": [1, 4]}      {"float": "6.674e-11"}      {"constant": "pi"}
    {"add": [node, ...]}      {"mul": [node, ...]}      {"pow": [base, {"integer" or "rational"}]}
    {"abs": node}             {"sign": node}

The reader walks the JSON with its own stack (no recursion: a file may nest
10⁵ levels) and refuses, with one line, anything else: another key, a wrong
type, an undeclared input, a number or exponent beyond the tree's limits, a
tree too large or too deep.
"""

from __future__ import annotations

from typing import Any

from arithnet.laws.law.tree import (
    MAX_DEPTH,
    MAX_NODES,
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

#: The named constants a tree may hold.
CONSTANTS = {"pi": Pi()}
#: The keys of nodes without operands.
LEAVES = ("input", "integer", "rational", "float", "constant")


def encode(tree: Node) -> dict[str, Any]:
    """The JSON object of a tree (built bottom-up with an explicit stack)."""
    done: dict[int, Any] = {}
    for node in reversed(list(walk(tree))):
        done[id(node)] = _encode_one(node, [done[id(child)] for child in children(node)])
    return done[id(tree)]


def _encode_one(node: Node, parts: list[Any]) -> dict[str, Any]:
    if isinstance(node, Input):
        return {"input": node.name}
    if isinstance(node, Integer):
        return {"integer": node.value}
    if isinstance(node, Rational):
        return {"rational": [node.numerator, node.denominator]}
    if isinstance(node, Float):
        return {"float": node.text}
    if isinstance(node, Pi):
        return {"constant": "pi"}
    if isinstance(node, Add | Mul):
        return {"add" if isinstance(node, Add) else "mul": parts}
    if isinstance(node, Pow):
        return {"pow": parts}
    return {"abs" if isinstance(node, Abs) else "sign": parts[0]}


def decode(data: Any, inputs: tuple[str, ...]) -> Node:
    """The tree of a JSON object; ValueError (one line, without the file's name) for anything else."""
    declared = set(inputs)
    # Each entry: (JSON value, depth, parent's operand list or None for the root).
    pending: list[tuple[Any, int, list | None]] = [(data, 1, None)]
    built: list[tuple[str, Any, list, list | None]] = []  # (kind, payload, operands, parent list), pre-order
    count = 0
    while pending:
        value, depth, parent = pending.pop()
        count += 1
        if count > MAX_NODES:
            raise ValueError(f"the law has more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise ValueError(f"the law is nested more than {MAX_DEPTH} levels deep")
        kind, payload = _single_key(value)
        operands: list = []
        built.append((kind, payload, operands, parent))
        for child in reversed(_operand_values(kind, payload)):
            pending.append((child, depth + 1, operands))
    return _assemble(built, declared)


def _single_key(value: Any) -> tuple[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"a node must be an object with one key, got {_short(value)}")
    ((kind, payload),) = value.items()
    return kind, payload


def _operand_values(kind: str, payload: Any) -> list[Any]:
    """The JSON operands of a node of ``kind`` (checked for shape); [] for a leaf."""
    if kind in ("add", "mul"):
        if not isinstance(payload, list) or len(payload) < 2:
            raise ValueError(f'"{kind}" needs a list of at least two nodes')
        return payload
    if kind == "pow":
        if not isinstance(payload, list) or len(payload) != 2:
            raise ValueError('"pow" needs a list of [base, exponent]')
        return payload
    if kind in ("abs", "sign"):
        return [payload]
    if kind in LEAVES:
        return []
    raise ValueError(f"unknown node {kind[:40]!r}")


def _assemble(built: list[tuple[str, Any, list, list | None]], declared: set[str]) -> Node:
    """Nodes from the pre-order list, children first (reversed order), each appended to its parent's list."""
    root: Node | None = None
    for kind, payload, operands, parent in reversed(built):
        # Children were appended in reverse pre-order: restore their order.
        node = _leaf(kind, payload, declared) if kind in LEAVES else _inner(kind, operands[::-1])
        check_number_limits(node)
        if parent is None:
            root = node
        else:
            parent.append(node)
    assert root is not None
    return root


def _leaf(kind: str, payload: Any, declared: set[str]) -> Node:
    if kind == "input":
        if not isinstance(payload, str):
            raise ValueError(f"an input's name must be text, got {_short(payload)}")
        if payload not in declared:
            raise ValueError(f"input {payload!r} is not among the law's declared inputs")
        return Input(payload)
    if kind == "integer":
        if not isinstance(payload, int) or isinstance(payload, bool):
            raise ValueError(f"an integer must be a JSON integer, got {_short(payload)}")
        return Integer(payload)
    if kind == "rational":
        ok = isinstance(payload, list) and len(payload) == 2 and all(_is_int(v) for v in payload)
        if not ok:
            raise ValueError(f"a rational must be [numerator, denominator], got {_short(payload)}")
        return Rational(payload[0], payload[1])
    if kind == "float":
        if not isinstance(payload, str):
            raise ValueError(f"a float must be decimal text, got {_short(payload)}")
        return Float(payload)
    if not isinstance(payload, str) or payload not in CONSTANTS:
        raise ValueError(f"unknown constant {_short(payload)} (only pi)")
    return CONSTANTS[payload]


def _inner(kind: str, operands: list[Node]) -> Node:
    if kind == "add":
        return Add(tuple(operands))
    if kind == "mul":
        return Mul(tuple(operands))
    if kind == "pow":
        return Pow(operands[0], operands[1])  # the exponent's kind is checked by check_number_limits
    if kind == "abs":
        return Abs(operands[0])
    return Sign(operands[0])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else text[:39] + "…"
