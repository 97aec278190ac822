"""A found law: a tree in the table's column names, that predicts, prints and saves itself as data.

law.json (version 2) keeps the law as its tree (``codec``) under "tree" and
as printed text under "law"; only the tree is read back. A file of version 1
(which stored the law as text for sympy to parse) is refused with a line that
says how to fit the table again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from arithnet.laws.law.codec import decode, encode
from arithnet.laws.law.evaluate import evaluate
from arithnet.laws.law.names import printed
from arithnet.laws.law.tree import Node, inputs_used

if TYPE_CHECKING:
    import sympy

#: What law.json's "format" field must say, and the version this arithnet writes and reads.
FORMAT = "arithnet-law"
FORMAT_VERSION = 2
#: A law file larger than this is not one arithnet wrote.
MAX_FILE_BYTES = 10_000_000


@dataclass(frozen=True)
class Law:
    """y = tree(inputs).

    Attributes:
        tree: the law (arithnet.laws.law.tree), in the input columns' names.
        inputs: every input column of the data the law was fitted on, in order.
        target: the target column's name.
    """

    tree: Node
    inputs: tuple[str, ...]
    target: str

    @classmethod
    def from_sympy(cls, expression: sympy.Expr, inputs: tuple[str, ...], target: str) -> Law:
        from arithnet.laws.law.symbolic import from_sympy

        return cls(from_sympy(expression), tuple(inputs), target)

    @cached_property
    def expression(self) -> sympy.Expr:
        """The law as a sympy expression, its inputs Symbols named like the columns."""
        from arithnet.laws.law.symbolic import to_sympy

        return to_sympy(self.tree)

    def predict(self, x: Any) -> np.ndarray:
        """The law on rows ``x`` (B, len(inputs)), float64; NaN where it is not defined."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.inputs):
            raise ValueError(f"the law takes {len(self.inputs)} input columns, got an array of shape {x.shape}")
        return evaluate(self.tree, dict(zip(self.inputs, x.T)), len(x))

    def used(self) -> tuple[str, ...]:
        """The input columns the law uses, in the data's order."""
        names = inputs_used(self.tree)
        return tuple(name for name in self.inputs if name in names)

    def latex(self) -> str:
        from arithnet.laws.law.names import latex_name
        from arithnet.laws.law.symbolic import latex

        return f"{latex_name(self.target)} = {latex(self.expression)}"

    def __str__(self) -> str:
        from arithnet.laws.law.symbolic import text

        return f"{printed(self.target)} = {text(self.expression)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "law": str(self),
            "latex": self.latex(),
            "tree": encode(self.tree),
            "inputs": list(self.inputs),
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "law.json") -> Law:
        """The law of a law.json object; one-line ValueError naming ``source`` for anything else."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f'{source}: not an arithnet law file (no "format": "{FORMAT}")')
        version = data.get("version")
        if version == 1:
            raise ValueError(
                f"{source}: a law file of version 1, which this arithnet no longer reads (it stored the law as "
                "code); fit the table again with 'arithnet fit DATA --target COLUMN' to write version 2"
            )
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise ValueError(f"{source}: law file version {version!r}; this arithnet reads {FORMAT_VERSION}")
        try:
            inputs, target = _declared(data)
            return cls(decode(data.get("tree"), inputs), inputs, target)
        except ValueError as error:
            raise ValueError(f"{source}: damaged arithnet law file: {error}") from None


def _declared(data: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    """The file's inputs and target, checked: text, distinct, a target that is not an input."""
    inputs, target = data.get("inputs"), data.get("target")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(name, str) and name for name in inputs):
        raise ValueError('"inputs" must be a list of column names (non-empty text)')
    if len(set(inputs)) != len(inputs):  # an input twice is a damaged file
        repeated = next(name for name in inputs if inputs.count(name) > 1)
        raise ValueError(f"input {repeated!r} is declared twice")
    from arithnet.tables import check_distinct_names

    check_distinct_names(inputs, "", "input")
    if not isinstance(target, str) or not target:
        raise ValueError('"target" must be a column name (non-empty text)')
    if target in inputs:
        raise ValueError(f"the target {target!r} is also an input")
    return tuple(inputs), target


def load_law(path: str | Path) -> Law:
    """The law saved at ``path`` (law.json); ValueError names the file when it is not one."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{path}: not an arithnet law file (larger than {MAX_FILE_BYTES // 1_000_000} MB)")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except RecursionError:
        raise ValueError(f"{path}: not an arithnet law file (JSON nested too deeply)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        if isinstance(error, ValueError) and str(error).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not an arithnet law file ({type(error).__name__})") from None
    return Law.from_dict(data, str(path))
