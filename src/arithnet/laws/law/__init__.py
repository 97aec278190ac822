"""The law as data: a tree of the nodes arithnet writes, its evaluation at any scale, its printing, law.json.

Nothing here imports torch, and sympy only to print: ``arithnet predict``
reads a law file and evaluates it with numpy alone.
"""

from __future__ import annotations

from arithnet.laws.law.law import FORMAT, FORMAT_VERSION, Law, load_law

__all__ = ["FORMAT", "FORMAT_VERSION", "Law", "load_law"]
