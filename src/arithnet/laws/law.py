"""A found law: a sympy expression in the table's column names, that predicts, prints and saves itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sympy

#: What law.json's "format" field must say.
FORMAT = "arithnet-law"
FORMAT_VERSION = 1


@dataclass
class Law:
    """y = expression(inputs).

    Attributes:
        expression: sympy, in Symbols named like the columns.
        inputs: every input column of the data the law was fitted on, in order.
        target: the target column's name.
    """

    expression: sympy.Expr
    inputs: tuple[str, ...]
    target: str

    @property
    def symbols(self) -> list[sympy.Symbol]:
        return [sympy.Symbol(name) for name in self.inputs]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The law on rows ``x`` (B, len(inputs)), float64; NaN where it is not defined."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.inputs):
            raise ValueError(f"the law takes {len(self.inputs)} input columns, got an array of shape {x.shape}")
        from arithnet.laws.expression import evaluate  # imports torch: a law is read and checked without it

        return evaluate(self.expression, self.symbols, x)

    def used(self) -> tuple[str, ...]:
        """The input columns the law uses, in the data's order."""
        names = {s.name for s in self.expression.free_symbols}
        return tuple(name for name in self.inputs if name in names)

    def latex(self) -> str:
        return f"{sympy.latex(sympy.Symbol(self.target))} = {sympy.latex(self.expression)}"

    def __str__(self) -> str:
        return f"{self.target} = {sympy.sstr(self.expression)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "law": sympy.srepr(self.expression),
            "text": str(self),
            "latex": self.latex(),
            "inputs": list(self.inputs),
            "target": self.target,
            "constants": constants(self.expression),
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "law.json") -> Law:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f'{source}: not an arithnet law file (no "format": "{FORMAT}")')
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{source}: law file version {data.get('version')!r}; this arithnet reads {FORMAT_VERSION}"
            )
        try:
            inputs = tuple(str(name) for name in data["inputs"])
            expression = sympy.parse_expr(data["law"], local_dict={n: sympy.Symbol(n) for n in inputs})
            return cls(expression, inputs, str(data["target"]))
        except (KeyError, TypeError, SyntaxError, sympy.SympifyError) as error:
            raise ValueError(f"{source}: damaged arithnet law file ({type(error).__name__}: {error})") from None


def constants(expr: sympy.Expr) -> list[str]:
    """The law's numbers other than small integers, as text: snapped (1/(4π)) or fitted floats."""
    numbers = {a for a in sympy.preorder_traversal(expr) if a.is_number and not (a.is_Integer and abs(a) < 10)}
    return sorted({sympy.sstr(n) for n in numbers if not any(n in b.args for b in numbers)})


def load_law(path: str | Path) -> Law:
    """The law saved at ``path`` (law.json); ValueError names the file when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not an arithnet law file ({type(error).__name__})") from None
    return Law.from_dict(data, str(path))
