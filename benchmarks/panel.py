"""A panel of made-up laws of deeper arithmetic shape, written before the law search was tuned for them.

Six kinds, six laws each: sums of two or three ratios over different denominators, a sum times a power of another
sum, nested fractions, ratios of products of sums, powers of ratios of sums, and laws in 6–9 columns. The laws are
made up: no document of the project names them, and none is a Feynman law.

The panel has two parts:

- ``DEVELOPMENT``: four laws of each kind (24). The search may be looked at on these while it is built.
- ``HELD_OUT``: two laws of each kind (12), kept aside: they are run once, at the end, and reported beside the
  development part. A change of the search must never be made to fix one of them.

Each law uses the same record as the Feynman laws (``feynman.FeynmanLaw``), so ``fit_equations.py`` samples and
scores both the same way; ``kind`` names the panel's kind. Variables are drawn from U[1, 5] unless a range keeps the
law real (a difference under a square root) or varies the scale.
"""

from __future__ import annotations

from feynman import FeynmanLaw

R15 = (1.0, 5.0)
KINDS = ("sum_of_ratios", "sum_times_power", "nested", "product_ratio", "power_of_ratio", "wide")


def _law(id_: str, formula: str, kind: str, ranges: dict[str, tuple[float, float]]) -> FeynmanLaw:
    return FeynmanLaw(id_, formula, ranges, kind)


def _same(names: str, bounds: tuple[float, float] = R15) -> dict[str, tuple[float, float]]:
    return dict.fromkeys(names.split(), bounds)


DEVELOPMENT: list[FeynmanLaw] = [
    # sums of two or three ratios over different denominators
    _law("D.R1", "x/(y + z) + w/(u + x)", "sum_of_ratios", _same("x y z w u")),
    _law("D.R2", "1/(a + b) + 1/(a + c)", "sum_of_ratios", _same("a b c")),
    _law("D.R3", "3*m/(m + n) - n/(2*k + m)", "sum_of_ratios", _same("m n k")),
    _law("D.R4", "a/(1 + b) + b/(1 + c) + c/(1 + a)", "sum_of_ratios", _same("a b c")),
    # a sum times a power of another sum
    _law("D.P1", "(a + b)*sqrt(c + d)", "sum_times_power", _same("a b c d")),
    _law("D.P2", "(x + 2*y)*(z + w)**(3/2)", "sum_times_power", _same("x y z w")),
    _law("D.P3", "(m + n)/(4*pi*(p + q)**2)", "sum_times_power", _same("m n p q")),
    _law("D.P4", "(u - v)*sqrt(u**2 + w**2)", "sum_times_power", _same("u v w")),
    # nested fractions
    _law("D.N1", "1/(1/a + 1/(b + c))", "nested", _same("a b c")),
    _law("D.N2", "a/(b + c/(d + e))", "nested", _same("a b c d e")),
    _law("D.N3", "1/(a + 1/(b + 1/c))", "nested", _same("a b c")),
    _law("D.N4", "(a + b/(c + d))/(1 + e)", "nested", _same("a b c d e")),
    # ratios of products of sums
    _law("D.Q1", "(a + b)*(c + d)/((a + c)*(b + d))", "product_ratio", _same("a b c d")),
    _law("D.Q2", "(x + 1)*(y + 2)/(x + y)", "product_ratio", _same("x y")),
    _law("D.Q3", "(m1 + m2)*(v1 - v2)/(m1*v1 + m2*v2)", "product_ratio", _same("m1 m2 v1 v2")),
    _law("D.Q4", "(a + b)*(a - c)/(b*(c + d))", "product_ratio", _same("a b c d")),
    # powers of ratios of sums
    _law("D.W1", "sqrt((a + b)/(c + d))/2", "power_of_ratio", _same("a b c d")),
    _law("D.W2", "((x + y)/(x + z))**2", "power_of_ratio", _same("x y z")),
    _law("D.W3", "((m + n)/(m + 2*k))**(3/2)", "power_of_ratio", _same("m n k")),
    _law("D.W4", "sqrt((c**2 + 1)/(a**2 + b**2))", "power_of_ratio", _same("a b c")),
    # laws in 6–9 columns
    _law("D.V1", "(x1*y1 + x2*y2)/(x3 + y3)", "wide", _same("x1 y1 x2 y2 x3 y3")),
    _law("D.V2", "a*b/(c + d) + e*f", "wide", _same("a b c d e f")),
    _law("D.V3", "(m1*v1 + m2*v2 + m3*v3)/(m1 + m2 + m3)", "wide", _same("m1 v1 m2 v2 m3 v3")),
    _law("D.V4", "sqrt((x1 - x2)**2 + (y1 - y2)**2)/(t1 + t2 + t3)", "wide", _same("x1 x2 y1 y2 t1 t2 t3")),
]

HELD_OUT: list[FeynmanLaw] = [
    _law("H.R1", "r1/(r1 + r2) + 2*r2/(r2 + r3)", "sum_of_ratios", _same("r1 r2 r3")),
    _law("H.R2", "u/(v**2 + w) + v/(u + w)", "sum_of_ratios", _same("u v w")),
    _law("H.P1", "(a + b)**2*sqrt(c + a)", "sum_times_power", _same("a b c")),
    _law("H.P2", "(x + y)/sqrt(x*z + 1)", "sum_times_power", _same("x y z")),
    _law("H.N1", "x/(1 + y/(1 + z))", "nested", _same("x y z")),
    _law("H.N2", "1/(1/(a + b) + 1/(c + d))", "nested", _same("a b c d")),
    _law("H.Q1", "(a + 2*b)*(c + d)/((a + d)*(b + c))", "product_ratio", _same("a b c d")),
    _law("H.Q2", "(u + v)*(w + 1)/((u + w)*(v + 1))", "product_ratio", _same("u v w")),
    _law("H.W1", "sqrt((u + v)/(u - w))", "power_of_ratio", {"u": (3.0, 5.0), "v": R15, "w": (1.0, 2.0)}),
    _law("H.W2", "((p + q)/(p + r + s))**(-2)", "power_of_ratio", _same("p q r s")),
    _law("H.V1", "k*q1*q2/(r1 + r2)**2 + m*g*h", "wide", _same("k q1 q2 r1 r2 m g h")),
    _law("H.V2", "(a + b + c)*(d + e)/(f*g + h)", "wide", _same("a b c d e f g h")),
]
