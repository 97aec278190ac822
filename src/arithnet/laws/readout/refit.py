"""A law's constants refitted as its sympy tree writes them, optionally with powers changed, and snapped in turn.

Each stage reads its constants out in its own parametrisation (a ratio's
monomials, a FactorNet's sums). A law that verification changes, a power of
one of its sums moved by ½ (verification.powers), has no such
parametrisation: its constants are read off its tree instead.

- Every sum gets a free coefficient per term but one: its leading term (a
  number term where it has one) keeps ±1, and the sum's scale goes to the
  law's factor in front, the one more free constant. Without that, a sum's
  scale and the factor trade off and no standard error is finite.
- The starting values are the law's own, exactly: the law is
  factor·shape(θ₀) with θ₀ read off its terms.
- The fit is scipy's least squares on y itself, residuals relative to RMS(y),
  with at most MAX_ITERATIONS evaluations of the residuals (scipy's count,
  which leaves out the finite differences of the Jacobian: those add one
  evaluation per constant and step); the standard errors come from the
  Jacobian.
- Snapping goes in turn, as in readout.in_turn and for its reason
  (correlated constants): the best-determined constant is snapped to the
  cheapest exact number within ``sigmas`` standard errors
  (readout.constants), the others are refitted with it fixed. One that does
  not snap stays a float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
from scipy.optimize import least_squares

from arithnet.laws.law.evaluate import evaluate
from arithnet.laws.law.symbolic import from_sympy
from arithnet.laws.readout.constants import ConstantReading, snapped_constant

#: Evaluations of the residuals per fit at most: the work is bounded by counts, not by the clock.
MAX_ITERATIONS = 100


@dataclass
class Shape:
    """A law with a symbol for each free constant: ``expression`` in the columns and ``parameters``, whose
    values at ``start`` give back the law it was made from (its moved powers aside)."""

    expression: sympy.Expr
    parameters: list[sympy.Symbol]
    start: np.ndarray
    moved: frozenset = frozenset()

    def values(self, theta: np.ndarray, columns: dict[str, np.ndarray], n_rows: int, tree=None) -> np.ndarray:
        tree = tree if tree is not None else from_sympy(self.expression)
        return evaluate(tree, {**columns, **{p.name: v for p, v in zip(self.parameters, theta)}}, n_rows)

    def law(self, constants: list[sympy.Expr]) -> sympy.Expr:
        return self.expression.xreplace(dict(zip(self.parameters, constants)))


def parametrized(expression: sympy.Expr, powers: dict | None = None, columns: dict | None = None) -> Shape:
    """``expression``'s shape, with the power of each Pow node in ``powers`` (node → power) replaced.

    A sum under an integer power p that is negative on the rows (``columns``, where given) is turned over
    when p is moved to a half, its sign (−1)^p kept in front: −1/(2 − a) on rows where a > 2 moves to
    (a − 2)^(−½), as 1/(a − 2) does, whichever way sympy wrote the sum. ``Shape.moved`` holds the Pow nodes
    whose power the shape changed: one inside Abs, sign or a float power is kept as it is, and not moved.
    """
    powers = powers or {}
    moved: set = set()
    parameters: list[sympy.Symbol] = []
    start: list[float] = []

    def parameter(value: float) -> sympy.Symbol:
        symbol = sympy.Symbol(f"coefficient·{len(parameters)}")  # no column's name holds a '·' and a digit only
        parameters.append(symbol)
        start.append(value)
        return symbol

    def walk(node) -> tuple[sympy.Expr, float]:
        """(shape, scale) with node = scale·shape at the starting values."""
        if node.is_number:
            return sympy.Integer(1), float(node)
        if isinstance(node, sympy.Mul):
            parts = [walk(arg) for arg in node.args]
            return sympy.Mul(*[shape for shape, _ in parts]), math.prod(scale for _, scale in parts)
        if isinstance(node, sympy.Add):
            return summed([walk(arg) for arg in node.args], node)
        if isinstance(node, sympy.Pow) and node.exp.is_Rational:
            return raised(node, *walk(node.base))
        return node, 1.0  # Abs, sign and symbols: kept as they are

    def raised(node, base, scale) -> tuple[sympy.Expr, float]:
        power = powers.get(node, node.exp)
        if node in powers and isinstance(node.base, sympy.Add):
            moved.add(node)
        if power.is_integer:
            return sympy.Pow(base, power), abs(scale) ** float(power) * math.copysign(1.0, scale) ** int(power)
        sign = 1.0
        if node.exp.is_integer and _negative(node.base, columns, scale):
            sign = (-1.0) ** int(node.exp)  # base^p = (−1)^p·(−base)^p: the neighbour keeps the sign
            scale = -scale
        if scale < 0:
            base, scale = -base, -scale
        return sympy.Pow(base, power), sign * scale ** float(power)

    def summed(parts, node) -> tuple[sympy.Expr, float]:
        lead = next((i for i, (shape, _) in enumerate(parts) if shape == 1), 0)
        scale = abs(parts[lead][1])
        if scale == 0 or not math.isfinite(scale):
            return node, 1.0
        terms = [sympy.Integer(1 if parts[lead][1] > 0 else -1) * parts[lead][0]]
        terms += [parameter(value / scale) * shape for i, (shape, value) in enumerate(parts) if i != lead]
        return sympy.Add(*terms), scale

    factor = parameter(1.0)
    shape, scale = walk(expression)
    start[0] = scale
    return Shape(factor * shape, parameters, np.array(start, dtype=np.float64), frozenset(moved))


def _negative(base: sympy.Expr, columns: dict | None, scale: float) -> bool:
    """Whether ``base`` is negative on most rows (without rows: whether its scale is)."""
    if columns is None:
        return scale < 0
    try:
        values = evaluate(from_sympy(base), columns, len(next(iter(columns.values()))))
    except ValueError:
        return scale < 0
    return bool(np.nanmedian(values) < 0) if np.isfinite(values).any() else scale < 0


@dataclass
class Fitted:
    """The least-squares fit of a shape: values, standard errors and the residual sum of squares (relative to
    RMS(y)²) over the rows."""

    values: np.ndarray
    errors: np.ndarray
    rss: float


def fit_shape(shape: Shape, columns: dict[str, np.ndarray], y: np.ndarray, theta=None, free=None) -> Fitted | None:
    """The constants of ``shape`` fitted to the rows; those not ``free`` keep their value in ``theta``. None when
    the fit fails (a law file's limits, a singular start)."""
    theta = shape.start.copy() if theta is None else np.array(theta, dtype=np.float64)
    free = np.ones(len(theta), dtype=bool) if free is None else free
    try:
        tree = from_sympy(shape.expression)
    except ValueError:  # a number beyond the law file's limits
        return None
    scale, n_rows = float(np.sqrt(np.mean(y**2))), len(y)

    def residual(moving: np.ndarray) -> np.ndarray:
        values = theta.copy()
        values[free] = moving
        r = (shape.values(values, columns, n_rows, tree) - y) / scale
        return np.where(np.isfinite(r), r, 1e3)

    if not free.any():
        return Fitted(theta, np.zeros_like(theta), float(np.sum(residual(theta[free]) ** 2)))
    try:
        solution = least_squares(residual, theta[free], method="trf", x_scale="jac", max_nfev=MAX_ITERATIONS)
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not np.isfinite(solution.cost):
        return None
    values, errors = theta.copy(), np.zeros_like(theta)
    values[free] = solution.x
    errors[free] = _standard_errors(solution.jac, 2 * solution.cost, n_rows)
    return Fitted(values, errors, 2 * float(solution.cost))


def _standard_errors(jacobian: np.ndarray, rss: float, n_rows: int) -> np.ndarray:
    """√diag(s²·(JᵀJ)⁻¹), s² the residual variance; inf where the rows do not fix a constant."""
    n_free = jacobian.shape[1]
    variance = rss / max(n_rows - n_free, 1)
    try:
        covariance = variance * np.linalg.inv(jacobian.T @ jacobian)
    except np.linalg.LinAlgError:
        return np.full(n_free, np.inf)
    diagonal = np.diag(covariance)
    return np.where(diagonal >= 0, np.sqrt(np.abs(diagonal)), np.inf)


def snapped_law(shape: Shape, columns: dict[str, np.ndarray], y: np.ndarray, max_denominator: int, sigmas: float):
    """The law of ``shape`` with its constants fitted and snapped in turn, and their readings; None when a fit
    fails or a constant is not fixed by the rows (an infinite standard error)."""
    fitted = fit_shape(shape, columns, y)
    free = np.ones(len(shape.parameters), dtype=bool)
    constants: list[sympy.Expr | None] = [None] * len(free)
    readings: list[ConstantReading] = []
    while fitted is not None and free.any():
        if not np.isfinite(fitted.errors[free]).all():
            return None
        relative = np.where(free, fitted.errors / np.maximum(np.abs(fitted.values), 1e-300), np.inf)
        k = int(relative.argmin())
        value, error = float(fitted.values[k]), float(fitted.errors[k])
        snapped = snapped_constant(value, error, max_denominator, sigmas)
        readings.append(ConstantReading(value, error, snapped, sigmas))
        constants[k] = snapped if snapped is not None else sympy.Float(value, 15)
        free[k] = False
        theta = fitted.values.copy()
        theta[k] = float(constants[k])
        fitted = fit_shape(shape, columns, y, theta, free) if free.any() else fitted
    if fitted is None:
        return None
    return shape.law(constants), readings
