"""Column names in a law: any text a table can hold, printed so that no name reads as something else.

A law keeps its inputs by their names, as data; nothing is parsed, so a column
may be called ``pi``, ``sqrt``, ``Symbol`` or ``mass (kg)``. What needs care is
printing: in the law's text a name is written bare when it is an identifier
that the printed law does not use for anything else, and in backquotes
otherwise (```pi```, ```mass (kg)```), so that ``pi`` is always π and
```pi``` always the column. Two names that read the same once Unicode is
normalised (NFKC: ``x`` and ``ｘ``, ``h`` and ``ℎ``) would print alike, and are
refused (``tables.check_distinct_names``).
"""

from __future__ import annotations

import keyword
import unicodedata

#: Words the printed law uses for constants and functions (sympy's printer), and sympy's own singletons.
RESERVED = frozenset(
    {"pi", "E", "I", "oo", "zoo", "nan", "sqrt", "exp", "log", "Abs", "sign", "sin", "cos", "tan", "S", "N", "O"}
)
#: LaTeX's special characters and how text mode writes them.
LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def is_bare(name: str) -> bool:
    """Whether ``name`` prints as it is: an identifier, no keyword, no word the printed law uses, NFKC-stable."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in RESERVED
        and unicodedata.normalize("NFKC", name) == name
    )


def printed(name: str) -> str:
    """The name as the law's text writes it: bare, or in backquotes (a backquote inside doubled)."""
    return name if is_bare(name) else "`" + name.replace("`", "``") + "`"


def latex_name(name: str) -> str:
    """The name in LaTeX: sympy's form for a plain identifier (ω₀ for omega_0), upright text otherwise."""
    if is_bare(name) and name.isascii():
        import sympy

        return sympy.latex(sympy.Symbol(name))
    return r"\text{" + "".join(LATEX_ESCAPES.get(c, c) for c in name) + "}"
