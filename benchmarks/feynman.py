"""The arithmetic laws of the Feynman symbolic-regression benchmark, with their sampling ranges.

The Feynman database of AI Feynman (Udrescu & Tegmark, "AI Feynman: a physics-inspired method for symbolic
regression", Science Advances 2020; the file FeynmanEquations.csv, also used by SRBench) has 100 equations. This
module keeps the 71 that use only +, −, ×, ÷ and powers (no exp, log, sin, cos, arcsin or tanh): 38 pure power laws
(``kind="power"``: a constant times a product of powers) and 33 with a sum somewhere (``kind="rational"``: sums of
products, ratios of sums, powers of sums).

Formulas, variable order and sampling ranges follow FeynmanEquations.csv: every variable is drawn from U[low, high],
mostly U[1, 5]; for example v in U[1, 2] and c in U[3, 10] wherever √(1 − v²/c²) appears. Departures, each noted
where it is made:

- I.12.2 and I.12.4 are written q1*q2/(4*pi*epsilon*r**2) and q1/(4*pi*epsilon*r**2); the CSV has the unreduced
  q1*q2*r/(4*pi*epsilon*r**3), the same function.
- I.15.10 is the id of SRBench and of the data files; the CSV's Filename column reads "I.15.1".
- Variable names that are sympy names are renamed (gamma → gamma_, I → I_), so that ``sympy.sympify(formula)``
  reads every variable as a Symbol; the original name is in a comment.

``sample`` draws training rows from the ranges; ``sample_outside`` draws each value from its training distribution
and multiplies it by a factor k ~ U[3, 10] of its own, 3 to 10 times outside the training range.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy

R15 = (1.0, 5.0)  # the benchmark's usual range, U[1, 5]
R13 = (1.0, 3.0)
R12 = (1.0, 2.0)
R01 = (0.0, 1.0)
C310 = (3.0, 10.0)  # c where √(1 − v²/c²) or 1 − v/c appears, with v in U[1, 2]
OUTSIDE_FACTOR = (3.0, 10.0)


@dataclass(frozen=True)
class FeynmanLaw:
    """One benchmark equation: ``formula`` in the variables of ``ranges`` (in the CSV's order)."""

    id: str
    formula: str
    ranges: dict[str, tuple[float, float]]
    kind: str  # "power" or "rational"

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.ranges)

    @cached_property
    def expression(self) -> sympy.Expr:
        symbols = {name: sympy.Symbol(name) for name in self.ranges}
        return sympy.sympify(self.formula, locals=symbols)

    @cached_property
    def function(self):
        return sympy.lambdify([sympy.Symbol(name) for name in self.ranges], self.expression, "numpy")

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """The law on the rows of ``x`` (n, I), in float64; NaN where it is not real."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            y = self.function(*x.T)
        return np.broadcast_to(np.asarray(y, dtype=np.float64), (x.shape[0],)).copy()


def _law(id_: str, formula: str, kind: str, **ranges: tuple[float, float]) -> FeynmanLaw:
    return FeynmanLaw(id_, formula, dict(ranges), kind)


def _same(names: str, bounds: tuple[float, float]) -> dict[str, tuple[float, float]]:
    return dict.fromkeys(names.split(), bounds)


P, RA = "power", "rational"
LAWS: list[FeynmanLaw] = [
    _law("I.8.14", "sqrt((x2-x1)**2+(y2-y1)**2)", RA, **_same("x1 x2 y1 y2", R15)),
    _law(
        "I.9.18",
        "G*m1*m2/((x2-x1)**2+(y2-y1)**2+(z2-z1)**2)",
        RA,
        m1=R12,
        m2=R12,
        G=R12,
        x1=(3.0, 4.0),
        x2=R12,
        y1=(3.0, 4.0),
        y2=R12,
        z1=(3.0, 4.0),
        z2=R12,
    ),
    _law("I.10.7", "m_0/sqrt(1-v**2/c**2)", RA, m_0=R15, v=R12, c=C310),
    _law("I.11.19", "x1*y1+x2*y2+x3*y3", RA, **_same("x1 x2 x3 y1 y2 y3", R15)),
    _law("I.12.1", "mu*Nn", P, **_same("mu Nn", R15)),
    _law("I.12.2", "q1*q2/(4*pi*epsilon*r**2)", P, **_same("q1 q2 epsilon r", R15)),  # CSV: q1*q2*r/(…*r**3)
    _law("I.12.4", "q1/(4*pi*epsilon*r**2)", P, **_same("q1 epsilon r", R15)),  # CSV: q1*r/(4*pi*epsilon*r**3)
    _law("I.12.5", "q2*Ef", P, **_same("q2 Ef", R15)),
    _law("I.13.4", "1/2*m*(v**2+u**2+w**2)", RA, **_same("m v u w", R15)),
    _law("I.13.12", "G*m1*m2*(1/r2-1/r1)", RA, **_same("m1 m2 r1 r2 G", R15)),
    _law("I.14.3", "m*g*z", P, **_same("m g z", R15)),
    _law("I.14.4", "1/2*k_spring*x**2", P, **_same("k_spring x", R15)),
    _law("I.15.3x", "(x-u*t)/sqrt(1-u**2/c**2)", RA, x=(5.0, 10.0), u=R12, c=(3.0, 20.0), t=R12),
    _law("I.15.3t", "(t-u*x/c**2)/sqrt(1-u**2/c**2)", RA, x=R15, c=C310, u=R12, t=R15),
    _law("I.15.10", "m_0*v/sqrt(1-v**2/c**2)", RA, m_0=R15, v=R12, c=C310),  # CSV Filename: I.15.1
    _law("I.16.6", "(u+v)/(1+u*v/c**2)", RA, **_same("c v u", R15)),
    _law("I.18.4", "(m1*r1+m2*r2)/(m1+m2)", RA, **_same("m1 m2 r1 r2", R15)),
    _law("I.24.6", "1/2*m*(omega**2+omega_0**2)*1/2*x**2", RA, **_same("m omega omega_0 x", R13)),
    _law("I.25.13", "q/C", P, **_same("q C", R15)),
    _law("I.27.6", "1/(1/d1+n/d2)", RA, **_same("d1 d2 n", R15)),
    _law("I.29.4", "omega/c", P, **_same("omega c", (1.0, 10.0))),
    _law("I.32.5", "q**2*a**2/(6*pi*epsilon*c**3)", P, **_same("q a epsilon c", R15)),
    _law(
        "I.32.17",
        "(1/2*epsilon*c*Ef**2)*(8*pi*r**2/3)*(omega**4/(omega**2-omega_0**2)**2)",
        RA,
        **_same("epsilon c Ef r omega", R12),
        omega_0=(3.0, 5.0),
    ),
    _law("I.34.8", "q*v*B/p", P, **_same("q v B p", R15)),
    _law("I.34.1", "omega_0/(1-v/c)", RA, c=C310, v=R12, omega_0=R15),
    _law("I.34.14", "(1+v/c)/sqrt(1-v**2/c**2)*omega_0", RA, c=C310, v=R12, omega_0=R15),
    _law("I.34.27", "(h/(2*pi))*omega", P, **_same("omega h", R15)),
    _law("I.38.12", "4*pi*epsilon*(h/(2*pi))**2/(m*q**2)", P, **_same("m q h epsilon", R15)),
    _law("I.39.1", "3/2*pr*V", P, **_same("pr V", R15)),
    _law("I.39.11", "1/(gamma_-1)*pr*V", RA, gamma_=(2.0, 5.0), pr=R15, V=R15),  # gamma_: CSV gamma
    _law("I.39.22", "n*kb*T/V", P, **_same("n T V kb", R15)),
    _law("I.43.16", "mu_drift*q*Volt/d", P, **_same("mu_drift q Volt d", R15)),
    _law("I.43.31", "mob*kb*T", P, **_same("mob T kb", R15)),
    _law("I.43.43", "1/(gamma_-1)*kb*v/A", RA, gamma_=(2.0, 5.0), **_same("kb A v", R15)),  # gamma_: CSV gamma
    _law("I.47.23", "sqrt(gamma_*pr/rho)", P, **_same("gamma_ pr rho", R15)),  # gamma_: CSV gamma
    _law("I.48.2", "m*c**2/sqrt(1-v**2/c**2)", RA, m=R15, v=R12, c=C310),
    _law("II.2.42", "kappa*(T2-T1)*A/d", RA, **_same("kappa T1 T2 A d", R15)),
    _law("II.3.24", "Pwr/(4*pi*r**2)", P, **_same("Pwr r", R15)),
    _law("II.4.23", "q/(4*pi*epsilon*r)", P, **_same("q epsilon r", R15)),
    _law("II.6.15a", "p_d/(4*pi*epsilon)*3*z/r**5*sqrt(x**2+y**2)", RA, **_same("epsilon p_d r x y z", R13)),
    _law("II.8.7", "3/5*q**2/(4*pi*epsilon*d)", P, **_same("q epsilon d", R15)),
    _law("II.8.31", "epsilon*Ef**2/2", P, **_same("epsilon Ef", R15)),
    _law("II.10.9", "sigma_den/epsilon*1/(1+chi)", RA, **_same("sigma_den epsilon chi", R15)),
    _law("II.11.3", "q*Ef/(m*(omega_0**2-omega**2))", RA, **_same("q Ef m", R13), omega_0=(3.0, 5.0), omega=R12),
    _law("II.11.20", "n_rho*p_d**2*Ef/(3*kb*T)", P, **_same("n_rho p_d Ef kb T", R15)),
    _law("II.11.27", "n*alpha/(1-(n*alpha/3))*epsilon*Ef", RA, n=R01, alpha=R01, epsilon=R12, Ef=R12),
    _law("II.11.28", "1+n*alpha/(1-(n*alpha/3))", RA, n=R01, alpha=R01),
    _law("II.13.17", "1/(4*pi*epsilon*c**2)*2*I_/r", P, **_same("epsilon c I_ r", R15)),  # I_: CSV I
    _law("II.13.23", "rho_c_0/sqrt(1-v**2/c**2)", RA, rho_c_0=R15, v=R12, c=C310),
    _law("II.13.34", "rho_c_0*v/sqrt(1-v**2/c**2)", RA, rho_c_0=R15, v=R12, c=C310),
    _law("II.21.32", "q/(4*pi*epsilon*r*(1-v/c))", RA, **_same("q epsilon r", R15), v=R12, c=C310),
    _law("II.24.17", "sqrt(omega**2/c**2-pi**2/d**2)", RA, omega=(4.0, 6.0), c=R12, d=(2.0, 4.0)),
    _law("II.27.16", "epsilon*c*Ef**2", P, **_same("epsilon c Ef", R15)),
    _law("II.27.18", "epsilon*Ef**2", P, **_same("epsilon Ef", R15)),
    _law("II.34.2a", "q*v/(2*pi*r)", P, **_same("q v r", R15)),
    _law("II.34.2", "q*v*r/2", P, **_same("q v r", R15)),
    _law("II.34.11", "g_*q*B/(2*m)", P, **_same("g_ q B m", R15)),
    _law("II.34.29a", "q*h/(4*pi*m)", P, **_same("q h m", R15)),
    _law("II.34.29b", "g_*mom*B*Jz/(h/(2*pi))", P, **_same("g_ h Jz mom B", R15)),
    _law(
        "II.36.38",
        "mom*H/(kb*T)+(mom*alpha)/(epsilon*c**2*kb*T)*M",
        RA,
        **_same("mom H kb T alpha epsilon c M", R13),
    ),
    _law("II.37.1", "mom*(1+chi)*B", RA, **_same("mom B chi", R15)),
    _law("II.38.3", "Y*A*x/d", P, **_same("Y A d x", R15)),
    _law("II.38.14", "Y/(2*(1+sigma))", RA, **_same("Y sigma", R15)),
    _law("III.7.38", "2*mom*B/(h/(2*pi))", P, **_same("mom B h", R15)),
    _law("III.10.19", "mom*sqrt(Bx**2+By**2+Bz**2)", RA, **_same("mom Bx By Bz", R15)),
    _law("III.12.43", "n*(h/(2*pi))", P, **_same("n h", R15)),
    _law("III.13.18", "2*E_n*d**2*k/(h/(2*pi))", P, **_same("E_n d k h", R15)),
    _law("III.15.14", "(h/(2*pi))**2/(2*E_n*d**2)", P, **_same("h E_n d", R15)),
    _law("III.15.27", "2*pi*alpha/(n*d)", P, **_same("alpha n d", R15)),
    _law("III.19.51", "-m*q**4/(2*(4*pi*epsilon)**2*(h/(2*pi))**2)*(1/n**2)", P, **_same("m q h n epsilon", R15)),
    _law("III.21.20", "-rho_c_0*q*A_vec/m", P, **_same("rho_c_0 q A_vec m", R15)),
]
BY_ID: dict[str, FeynmanLaw] = {law.id: law for law in LAWS}


def select(spec: str) -> list[FeynmanLaw]:
    """``all``, ``power``, ``rational`` or comma-separated ids (ValueError naming an unknown id)."""
    if spec in ("all", "power", "rational"):
        return [law for law in LAWS if spec in ("all", law.kind)]
    ids = [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [id_ for id_ in ids if id_ not in BY_ID]
    if unknown or not ids:
        raise ValueError(f"unknown law id(s): {', '.join(unknown) or spec!r} (ids like I.16.6, or all|rational|power)")
    return [BY_ID[id_] for id_ in ids]


def _draw(law: FeynmanLaw, n: int, rng: np.random.Generator, outside: bool) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows where the law is finite and real, each variable from its range (times k ~ U[3, 10] outside)."""
    low, high = (np.array(bounds, dtype=np.float64) for bounds in zip(*law.ranges.values()))
    xs, ys, kept = [], [], 0
    for _ in range(1000):
        x = rng.uniform(low, high, size=(n, len(low)))
        if outside:
            x *= rng.uniform(*OUTSIDE_FACTOR, size=x.shape)
        y = law.evaluate(x)
        ok = np.isfinite(y)
        xs.append(x[ok])
        ys.append(y[ok])
        kept += int(ok.sum())
        if kept >= n:
            return np.concatenate(xs)[:n], np.concatenate(ys)[:n]
    raise ValueError(f"{law.id}: could not draw {n} rows where the law is finite and real")


def sample(law: FeynmanLaw, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Training rows: x (n, I) float64 from the benchmark's ranges, y (n,) the law on them."""
    return _draw(law, n, rng, outside=False)


def sample_outside(law: FeynmanLaw, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows 3 to 10 times outside the training range; rows where the law is not finite and real are dropped."""
    return _draw(law, n, rng, outside=True)
