"""A law is data: law.json's tree is read without evaluating anything, evaluated at any scale, printed unambiguously."""

from __future__ import annotations

import json
import math
import pathlib
import re

import numpy as np
import pytest
import sympy

from arithnet.laws.law import Law, load_law
from arithnet.laws.law.codec import decode, encode
from arithnet.laws.law.evaluate import evaluate
from arithnet.laws.law.tree import Abs, Add, Float, Input, Integer, Mul, Pi, Pow, Rational, Sign

SOURCE = pathlib.Path(__file__).resolve().parent.parent / "src" / "arithnet"
a, b = Input("a"), Input("b")
#: a·b/(a + b) + π·|a|^(1/2)·sign(b) − 6.5e−3: every kind of node.
EVERY_NODE = Add(
    (
        Mul((a, b, Pow(Add((a, b)), Integer(-1)))),
        Mul((Pi(), Pow(Abs(a), Rational(1, 2)), Sign(b))),
        Float("-6.5e-3"),
    )
)


def law_file(tmp_path, tree, inputs=("a", "b"), **changes) -> pathlib.Path:
    """A law.json written by arithnet, with ``tree`` (a JSON value) and any key changed."""
    data = Law(EVERY_NODE, ("a", "b"), "y").to_dict() | {"tree": tree, "inputs": list(inputs)} | changes
    path = tmp_path / "law.json"
    path.write_text(json.dumps(data))
    return path


def test_the_tree_round_trips_through_json(tmp_path):
    path = tmp_path / "law.json"
    path.write_text(json.dumps(Law(EVERY_NODE, ("a", "b"), "y").to_dict()))
    law = load_law(path)
    assert law.tree == EVERY_NODE and law.inputs == ("a", "b") and law.target == "y"
    x = np.array([[1.0, 2.0], [4.0, -3.0]])
    expected = x[:, 0] * x[:, 1] / x.sum(1) + math.pi * np.sqrt(np.abs(x[:, 0])) * np.sign(x[:, 1]) - 6.5e-3
    np.testing.assert_allclose(law.predict(x), expected, rtol=1e-15)


def test_a_law_file_with_code_in_its_text_runs_nothing(tmp_path, monkeypatch):
    """The printed law is never read back: a 'law' text that would run code changes nothing."""
    monkeypatch.chdir(tmp_path)
    payload = "__import__('os').system('touch owned') + a"
    path = law_file(tmp_path, encode(EVERY_NODE), law=payload, latex=payload)
    law = load_law(path)
    law.predict(np.ones((3, 2)))
    assert str(law) != payload and not (tmp_path / "owned").exists()


def test_a_version_1_file_is_refused_with_how_to_refit(tmp_path):
    path = tmp_path / "law.json"
    text = "__import__('os').system('touch owned') + a"
    path.write_text(json.dumps({"format": "arithnet-law", "version": 1, "law": text, "inputs": ["a"], "target": "y"}))
    with pytest.raises(ValueError, match=r"version 1.*fit the table again with 'arithnet fit DATA --target COLUMN'"):
        load_law(path)
    assert not (tmp_path / "owned").exists()


DAMAGED = [
    ("a string", "__import__('os').system('touch owned') + a", "a node must be an object with one key"),
    ("a number", 42, "a node must be an object with one key, got 42"),
    ("a function", {"function": ["f", {"input": "a"}]}, "unknown node 'function'"),
    ("an undeclared input", {"input": "c"}, "input 'c' is not among the law's declared inputs"),
    ("a symbol in an exponent", {"pow": [{"input": "a"}, {"input": "b"}]}, "exponent must be an integer or a rational"),
    ("10**10**10", {"pow": [{"integer": 10}, {"pow": [{"integer": 10}, {"integer": 10}]}]}, "exponent must be an"),
    ("a huge exponent", {"pow": [{"integer": 10}, {"integer": 10**10}]}, "exponent 10000000000 is beyond ±1000"),
    ("a huge integer", {"integer": 10**30}, "is beyond ±1e18"),
    ("a boolean", {"integer": True}, "an integer must be a JSON integer, got True"),
    ("an unreduced rational", {"rational": [2, 4]}, "rational 2/4 is not in lowest terms"),
    ("a float that is not one", {"float": "1e5; rm -rf /"}, "is not a decimal number"),
    ("another constant", {"constant": "e"}, "unknown constant 'e' (only pi)"),
    ("a sum of one", {"add": [{"input": "a"}]}, '"add" needs a list of at least two nodes'),
    ("two keys", {"input": "a", "integer": 1}, "a node must be an object with one key"),
]


@pytest.mark.parametrize(("case", "tree", "message"), DAMAGED, ids=[case for case, _, _ in DAMAGED])
def test_a_damaged_tree_is_one_line(tmp_path, case, tree, message):
    path = law_file(tmp_path, tree)
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        load_law(path)
    assert str(error.value).startswith(f"{path}: damaged arithnet law file: ") and "\n" not in str(error.value)


HAND_EDITED = [
    ("an input renamed", {"inputs": ["z", "b"]}, "input 'a' is not among the law's declared inputs"),
    ("an input removed", {"inputs": ["b"]}, "input 'a' is not among the law's declared inputs"),
    ("an input twice", {"inputs": ["a", "b", "a"]}, "input 'a' is declared twice"),
    ("inputs that are not text", {"inputs": [1, 2]}, '"inputs" must be a list of column names'),
    ("inputs equal under NFKC", {"inputs": ["a", "b", "ｂ"]}, "inputs 'b' and 'ｂ' read the same"),
    ("no target", {"target": None}, '"target" must be a column name'),
    ("a target that is an input", {"target": "a"}, "the target 'a' is also an input"),
    ("no tree", {"tree": None}, "a node must be an object with one key, got None"),
]


@pytest.mark.parametrize(("case", "changes", "message"), HAND_EDITED, ids=[case for case, _, _ in HAND_EDITED])
def test_a_hand_edited_file_is_one_line(tmp_path, case, changes, message):
    data = Law(EVERY_NODE, ("a", "b"), "y").to_dict() | {"tree": encode(EVERY_NODE)} | changes
    path = tmp_path / "law.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=re.escape(message)):
        load_law(path)


def test_nesting_is_bounded_without_recursion(tmp_path):
    path = tmp_path / "law.json"
    deep = '{"abs": ' * 100_000 + '{"input": "a"}' + "}" * 100_000
    header = '{"format": "arithnet-law", "version": 2, "inputs": ["a"], "target": "y", "tree": '
    path.write_text(header + deep + "}")
    with pytest.raises(ValueError, match=r"JSON nested too deeply|nested more than 200 levels deep"):
        load_law(path)
    tree: object = {"input": "a"}
    for _ in range(300):
        tree = {"abs": tree}
    with pytest.raises(ValueError, match="nested more than 200 levels deep"):
        decode(tree, ("a",))


@pytest.mark.parametrize("power", [-300, -150, -31, 0, 31, 150, 300])
def test_the_evaluator_works_at_any_scale(power):
    """c·a²·√(a² + b²) with a and b of size 10^power and c = 10^(−3·power): every value is of order 1."""
    scale = 10.0**power
    x = np.array([[3.0, 4.0], [-1.5, 2.0], [0.0, 2.0]]) * scale
    constant = Float(f"2.5e{-3 * power}")
    tree = Mul((constant, Pow(a, Integer(2)), Pow(Add((Pow(a, Integer(2)), Pow(b, Integer(2)))), Rational(1, 2))))
    values = evaluate(tree, {"a": x[:, 0], "b": x[:, 1]})
    np.testing.assert_allclose(values, [2.5 * 9 * 5, 2.5 * 2.25 * 2.5, 0.0], rtol=1e-13)


def test_a_division_by_zero_and_a_root_of_a_negative_are_nan():
    tree = Mul((Pow(a, Integer(-1)), Pow(b, Rational(1, 2))))
    values = evaluate(tree, {"a": np.array([0.0, 2.0, 2.0]), "b": np.array([4.0, -4.0, 4.0])})
    assert np.isnan(values[:2]).all() and values[2] == 1.0


@pytest.mark.parametrize(
    ("names", "printed"),
    [
        (("pi", "b"), "y = pi*b*`pi`"),
        (("sqrt", "b"), "y = pi*b*`sqrt`"),
        (("E", "I"), "y = pi*`E`*`I`"),
        (("Symbol", "mass (kg)"), "y = pi*Symbol*`mass (kg)`"),
        (("a", "`b`"), "y = pi*```b```*a"),
    ],
)
def test_a_name_that_is_also_a_constant_or_function_prints_unambiguously(names, printed):
    law = Law(Mul((Pi(), Input(names[0]), Input(names[1]))), names, "y")
    assert str(law) == printed
    np.testing.assert_allclose(law.predict(np.array([[2.0, 3.0]])), [6.0 * math.pi])
    assert r"\pi" in law.latex() and law.latex().count(r"\pi") == 1


def test_a_law_built_from_sympy_is_the_same_law():
    x, y = sympy.symbols("x y")
    law = Law.from_sympy(x * y / (x + y) + sympy.sqrt(2) / sympy.pi, ("x", "y"), "z")
    assert sympy.simplify(law.expression - (x * y / (x + y) + sympy.sqrt(2) / sympy.pi)) == 0
    with pytest.raises(ValueError, match="a law holds only inputs, numbers"):
        Law.from_sympy(sympy.exp(x), ("x",), "z")


def test_no_text_from_a_user_is_evaluated_anywhere():
    """No eval, exec, sympify or parse_expr in arithnet's code: files are data, read by a parser."""
    pattern = re.compile(r"parse_expr|sympify\(|(^|[^._\w])(eval|exec)\(")
    found = [
        f"{path.relative_to(SOURCE)}:{number}: {line.strip()}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line) and not line.strip().startswith("#") and "``" not in line  # ``eval()`` in prose
    ]
    assert found == []
