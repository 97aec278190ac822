"""Laws outside arithnet's lattice class, for ``fit_trust.py``: what does the search say of a law it cannot write?

Five families, two laws each, every variable from U[1, 5]: powers off the lattice (x^1.37), exp, log, sin, and
sums of two ratios over different denominators (in the class that issue 18 adds, outside the y^q = P/Q class of
two sums of monomials). The same records as the Feynman laws (``feynman.FeynmanLaw``), so ``fit_equations.py``
samples and scores them the same way; ``kind`` is the family.
"""

from __future__ import annotations

from feynman import FeynmanLaw

R15 = (1.0, 5.0)


def _law(id_: str, formula: str, kind: str, names: str) -> FeynmanLaw:
    return FeynmanLaw(id_, formula, dict.fromkeys(names.split(), R15), kind)


OUTSIDE: list[FeynmanLaw] = [
    _law("O.power1", "x0**1.37*x1", "off-lattice power", "x0 x1"),
    _law("O.power2", "x0**0.73/x1**1.21 + x2", "off-lattice power", "x0 x1 x2"),
    _law("O.exp1", "exp(x0)*x1", "exp", "x0 x1"),
    _law("O.exp2", "x0*exp(-x1/x2)", "exp", "x0 x1 x2"),
    _law("O.log1", "log(x0) + x1", "log", "x0 x1"),
    _law("O.log2", "x0*log(x1 + x2)", "log", "x0 x1 x2"),
    _law("O.sin1", "sin(x0)*x1", "sin", "x0 x1"),
    _law("O.sin2", "x0 + sin(x1*x2)", "sin", "x0 x1 x2"),
    _law("O.ratios1", "x0/(x1 + x2) + x3/(x4 + x0)", "sum of two ratios", "x0 x1 x2 x3 x4"),
    _law("O.ratios2", "x0/(x1 + x2) + x1/(x0 + x3)", "sum of two ratios", "x0 x1 x2 x3"),
]
