"""The rational library: y^q·Q(z) = P(z) solved in closed form, P and Q polynomials in the scaled columns.

SINDy-PI's idea (Kaheman, Kutz & Brunton 2020): for noise-free rows of a law
y^q = P/Q, the coefficients of P and Q are a null vector of the implicit
design [Φ_P(z), −t·Φ_Q(z)], t = y^q, with Φ_P and Φ_Q every monomial of total
degree ≤ deg P and ≤ deg Q over the scaled columns z (``readout.rows``). One
SVD per configuration (q, deg P, deg Q) finds it: no enumeration of shapes,
no training. Sums of ratios over different denominators, nested fractions,
ratios of products of sums and powers of ratios are all one P/Q once
multiplied out. The configurations run simplest first and the stage stops at
the first with a clean null vector; its support becomes a ratio ``Structure``
(Q divided by its largest term, so Q = 1 + …, with Laurent monomials) that the
readout (``readout.shortlist``) solves again, prunes, snaps and ranks.

Shape letters: B rows, T library monomials, I inputs, K terms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from arithnet.laws.readout.algebra import monomials
from arithnet.laws.readout.library import library_size, monomial_library
from arithnet.laws.readout.rows import Rows
from arithnet.laws.readout.shortlist import shortlist

#: The largest total degree deg P + deg Q tried. The laws of the class reach 10: a square root of a ratio whose
#: numerator is a squared sum in a squared column, (t·c² − u·x)²/(c²·(c² − u²)), is degree 6 over degree 4.
MAX_TOTAL_DEGREE = 10
#: A configuration's columns (P's monomials and Q's) at most, and at most its rows over ROWS_PER_COLUMN (a null
#: vector needs rows to spare). One SVD costs rows × columns²; 400 columns hold degree 3 over 2 in 9 inputs.
MAX_COLUMNS = 400
ROWS_PER_COLUMN = 2
#: Training rows the stage solves on at most (the first of a random order): twice MAX_COLUMNS and some to spare.
STAGE_ROWS = 1024
#: The acceptance test of a null vector, on the weighted design with unit-RMS columns: σ_min/σ_max at rounding level,
#: and the next singular value well apart (one law, not a family). Measured on the 24 laws of the development panel
#: and the 33 rational Feynman laws, two samples of 750 noise-free rows each: every law found had σ_min/σ_max
#: ≤ 2e-16 and the next singular value ≥ 1e6 times larger. Configurations holding no law reached σ_min/σ_max of
#: 3e-13 (libraries of degree 8–10, ill-conditioned; the next within 160 times) or a gap of 860 (with σ_min/σ_max
#: 3e-6), never both. The ratio admits a table rounded up to 5000 times coarser than float64; the gap sits 100
#: times below the laws' and 10 times above any miss's. With noise of 1e-6 or more no library passes the first.
NULL_RATIO = 1e-12
MIN_GAP = 1e4
#: Rows are weighted by 1/|t|, with |t| floored at this share of RMS(t). Without the floor, the few rows where a
#: plain y² nears 0 (t ~ 1e-10 where y changes sign) outweighed all others, σ_max grew with them, and a library
#: holding no law passed the test above (σ_min/σ_max 3e-13, a ratio of products of sums in y², P2/Q6); floored at
#: 1e-6 it stays at 6e-11 while every law's null vector is unchanged. The readout floors its weights alike.
WEIGHT_FLOOR = 1e-6
#: Terms of the null vector whose RMS over the rows is below this share of their sum's (P's or Q's) are left out.
#: Measured as above: a law's terms have shares ≥ 6e-4, the terms left out ≤ 5e-7 (rounding over the gap). The
#: readout solves the support again and prunes what is left at 1e-9.
SUPPORT = 1e-5
#: The exponents are whole numbers: the readout snaps them to halves, as it does the polynomial library's.
GRIDS = (2,)
#: A sum whose RMS over the rows is below this share of its largest term's vanishes on every row: no side of a law
#: (whose P and Q are of the size of their terms, 1 − v/c with v/c ≤ 2/3 in the class), but a relation of the columns.
CANCELLED = 1e-8
#: (q, plain) in the order tried: y, sign(y)·y², then the plain y² for a target that changes sign.
TARGETS = ((1, False), (2, False), (2, True))


@dataclass(frozen=True)
class Configuration:
    """One library: y^power·Q = P, P of total degree ≤ degree_p, Q ≤ degree_q; ``plain``: y², not sign(y)·y²."""

    power: int
    plain: bool
    degree_p: int
    degree_q: int

    def n_columns(self, n_inputs: int) -> int:
        return library_size(n_inputs, self.degree_p) + library_size(n_inputs, self.degree_q)

    @property
    def label(self) -> str:
        target = "y" if self.power == 1 else f"y^{self.power}" + (" (plain)" if self.plain else "")
        return f"{target} = P{self.degree_p}/Q{self.degree_q} (rational library)"


def configurations() -> list[Configuration]:
    """Every configuration, simplest first: by total degree, then the larger of the two degrees, then TARGETS."""
    found = []
    for total in range(1, MAX_TOTAL_DEGREE + 1):
        for larger in range((total + 1) // 2, total + 1):
            for degree_p in sorted({larger, total - larger}, reverse=True):
                found += [Configuration(q, plain, degree_p, total - degree_p) for q, plain in TARGETS]
    return found


def target(y: np.ndarray, configuration: Configuration) -> np.ndarray:
    """t = y^q: sign-keeping (sign(y)·|y|^q), or plain for ``configuration.plain``."""
    t = np.abs(y) ** configuration.power
    return t if configuration.plain else np.sign(y) * t


def null_vector(phi_p: np.ndarray, phi_q: np.ndarray, t: np.ndarray) -> np.ndarray | None:
    """The coefficients of P and Q (a null vector of [Φ_P, −t·Φ_Q]), or None when the design has no clean one.

    Each row is divided by |t| (at least WEIGHT_FLOOR·RMS(t)), so that the implicit residual P − t·Q is a
    relative error: every row counts alike, whatever its size. Rows with t = 0 are left out. Columns are scaled
    to unit RMS for the SVD; the coefficients returned are those of the monomials themselves.
    """
    kept = (t != 0) & np.isfinite(t)
    weight = np.maximum(np.abs(t[kept]), WEIGHT_FLOOR * np.sqrt(np.mean(t[kept] ** 2)))
    design = np.concatenate([phi_p, -t[:, None] * phi_q], 1)[kept] / weight[:, None]
    scale = np.sqrt(np.mean(design**2, axis=0))
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        return None  # a column that is 0 or not finite on every row: no law is read from it
    normalised = design / scale
    singular = np.linalg.svd(normalised, compute_uv=False)
    if not (singular[-1] < NULL_RATIO * singular[0] and singular[-2] > MIN_GAP * singular[-1]):
        return None
    return np.linalg.svd(normalised, full_matrices=False)[2][-1] / scale


def shares(coefficients: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, float]:
    """Each term's RMS over the rows as a share of its sum's (P's or Q's), and the sum's RMS over its largest term's."""
    terms = coefficients * phi
    size = np.sqrt(np.mean(terms**2, axis=0))
    total = float(np.sqrt(np.mean(terms.sum(1) ** 2)))
    with np.errstate(all="ignore"):
        return np.nan_to_num(size / total), np.nan_to_num(total / size.max())


def implicit_structure(coefficients: np.ndarray, phi_p: np.ndarray, phi_q: np.ndarray, library_p, library_q):
    """The null vector as y^q = P/Q with Q = 1 + …: (exponents (K, I), roles (K,)), or None when it is no law.

    Its support is the terms whose share of their sum is above SUPPORT. P and Q are divided by Q's largest term,
    so that the ratio has the readout's form (its exponents become Laurent monomials). A P or a Q that cancels
    on every row (below CANCELLED of its largest term) is a relation among the columns themselves (a column
    twice another: x₂ − 2x₁ = 0), not a side of a law.
    """
    n_p = len(library_p)
    (share_p, whole_p), (share_q, whole_q) = shares(coefficients[:n_p], phi_p), shares(coefficients[n_p:], phi_q)
    if min(whole_p, whole_q) < CANCELLED:
        return None
    share = np.concatenate([share_p, share_q])
    support = share > SUPPORT
    lead = n_p + int(share_q.argmax())
    exponents = np.concatenate([library_p, library_q])
    roles = np.concatenate([np.ones(n_p), -np.ones(len(library_q))])
    support[lead] = False  # the 1 of Q = 1 + …
    return (exponents - exponents[lead])[support], roles[support]


def first_law(z: np.ndarray, y: np.ndarray, check):
    """The first configuration with a clean null vector: (configuration, exponents, roles), or None.

    ``check`` is called before each configuration (the time budget). Configurations with more columns than
    MAX_COLUMNS or half the rows are skipped; the plain y² only where y changes sign (else it is the signed one).
    """
    n_inputs = z.shape[1]
    most = min(MAX_COLUMNS, len(y) // ROWS_PER_COLUMN)
    degree = max((d for d in range(MAX_TOTAL_DEGREE + 1) if library_size(n_inputs, d) < most), default=-1)
    if degree < 0:
        return None
    library = monomial_library(n_inputs, degree)
    phi = monomials(z, library[None])[0]  # (B, T): each smaller library is its first columns
    changes_sign = bool((y > 0).any() and (y < 0).any())
    for configuration in configurations():
        if configuration.n_columns(n_inputs) > most or (configuration.plain and not changes_sign):
            continue
        check()
        n_p, n_q = library_size(n_inputs, configuration.degree_p), library_size(n_inputs, configuration.degree_q)
        coefficients = null_vector(phi[:, :n_p], phi[:, :n_q], target(y, configuration))
        if coefficients is not None:
            structure = implicit_structure(coefficients, phi[:, :n_p], phi[:, :n_q], library[:n_p], library[:n_q])
            if structure is not None:
                return configuration, *structure
    return None


def rational_library(rows: Rows, check):
    """The stage: the first configuration's law read out by ``readout.shortlist``, or None when none was found.

    A plain y² is read out on |y| (y² = |y|², so every fit of the readout holds) and its structures are marked
    ``plain``: the expression then takes its sign from a factor (``readout.roots``). Its fits of |y| are no
    rivals of laws of y, and are not kept.
    """
    found = first_law(rows.x[:STAGE_ROWS], rows.y[:STAGE_ROWS], check)
    if found is None:
        return None
    configuration, exponents, roles = found
    power = np.array([float(configuration.power)])
    if not configuration.plain:
        return shortlist(rows, exponents[None], roles[None], power, [configuration.label], GRIDS)
    absolute = replace(rows, y=np.abs(rows.y), y_held=np.abs(rows.y_held))
    structures, _, _ = shortlist(absolute, exponents[None], roles[None], power, [configuration.label], GRIDS)
    return [(replace(structure, plain=True), held) for structure, held in structures], np.inf, []
