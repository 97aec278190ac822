"""``ArithmeticRegressor``: arithnet's law search as a scikit-learn regressor.

``fit`` runs :func:`arithnet.laws.fit_law` on a table built with
:func:`arithnet.tables.table_from_arrays`; ``predict`` evaluates the law it
found. The regressor clones, pickles, takes part in pipelines and grid
searches, and passes scikit-learn's estimator checks except those listed in
:data:`SKIPPED_CHECKS` (the class docstring says why).

Who reports bad input. scikit-learn's ``validate_data`` checks the *shape and
type* of arrays, with its standard messages (sparse or complex data, 1-D X,
no rows or columns, too few rows, the wrong number of columns or the wrong
column names when predicting). arithnet checks the *values*: a NaN, an
infinity or a cell that is not a number is reported on one line naming the
column and the 1-based row, e.g. ``<array>: x column 'a', row 7 is NaN``.
DataFrames are not converted by scikit-learn at all (it only records their
column names), so every problem in a DataFrame's cells gets arithnet's
message.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sympy
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from arithnet.laws import FitConfig, LawFit, fit_law
from arithnet.tables import input_matrix, table_from_arrays

#: The columns of ``equations_``: PySR's names first, then arithnet's verification, template and choice.
EQUATION_COLUMNS = ("complexity", "loss", "equation", "sympy_format", "verified", "template", "stage", "chosen")

#: The defaults of the parameters are fit_law's own.
DEFAULTS = FitConfig()

#: Where messages about arrays say the data came from (as table_from_arrays does).
SOURCE = "<array>"

#: check_array settings for array input in fit: float64, with non-finite values left for arithnet to report.
X_CHECKS = {"dtype": np.float64, "ensure_all_finite": False}
Y_CHECKS = {"dtype": np.float64, "ensure_all_finite": False, "ensure_2d": False}

#: Why the checks below fail.
_TOO_FEW_ROWS = "fits fewer rows than a law search accepts (8, and 2·(inputs + 2))"

SKIPPED_CHECKS = {
    "check_regressors_no_decision_function": _TOO_FEW_ROWS,
}


class ArithmeticRegressor(RegressorMixin, BaseEstimator):
    """A regressor that finds the exact arithmetic law y = f(x) in a table and predicts with it.

    The parameters are those of :class:`arithnet.laws.FitConfig` a user would
    tune, with its defaults; they are checked when ``fit`` builds the FitConfig, which raises
    ``ValueError`` for a bad value. The search is deterministic for a given
    ``seed``: its work is set by counts; ``time_budget`` only caps it (a
    search it cuts short says so in ``fit_.stopped``).

    Parameters:
        seed: the search's random stream (starts and the held-out split).
        time_budget: seconds; a cap on the whole search.
        n_starts: networks per shape and target power in a stage.
        steps: Adam steps of each stage's search, on a subset of the rows.
        polish_steps: Adam steps of each stage's polish, on every training row.
        holdout: the fraction of rows kept out of training, to verify laws on.
        max_denominator: constants snap to rationals p/q with q up to this.
        max_noise: the largest relative noise a law may be verified to.
        factored_stages: train the factored stages (sums of products of powers of sums) after the
            closed-form stages; off, the search is the closed-form stages and LawNet's.
        max_terms: LawNet's stages up to this many monomials (2, 3, 4 or 6); None runs them all.

    Attributes (after ``fit``):
        law_: the chosen :class:`arithnet.laws.Law`, in the columns' names (x0, x1, … for arrays).
        fit_: the whole :class:`arithnet.laws.LawFit` (candidates, timings, configuration).
        equations_: a pandas DataFrame like PySR's, one row per candidate on the Pareto front,
            simplest first, with columns complexity, loss (held-out relative RMS error),
            equation (text), sympy_format (sympy expression), verified ("exact", "noise" or "not verified"),
            template (the shape it came from), stage (the stage of the search that found it) and chosen
            (True on the law that was chosen).
        verification_: "exact", "noise", "ambiguous" or "not verified" (arithnet.laws.Verdict).
        n_features_in_: the number of input columns.
        feature_names_in_: the input column names, only when X was a DataFrame with string column names.

    Input: scikit-learn checks the shape and type of arrays with its usual
    messages; arithnet reports NaN, infinite and non-numeric cells naming the
    column and row, and checks DataFrames entirely itself (see the module
    docstring). Too few rows: scikit-learn's message for arrays, arithnet's for
    DataFrames; the search needs at least 8 rows, and 2·(inputs + 2).

    scikit-learn checks skipped (:data:`SKIPPED_CHECKS`, expected failures in the test suite):
        check_regressors_no_decision_function, which fits fewer rows than a search accepts.
    """

    def __init__(
        self,
        *,
        seed: int = DEFAULTS.seed,
        time_budget: float = DEFAULTS.time_budget,
        n_starts: int = DEFAULTS.n_starts,
        steps: int = DEFAULTS.steps,
        polish_steps: int = DEFAULTS.polish_steps,
        holdout: float = DEFAULTS.holdout,
        max_denominator: int = DEFAULTS.max_denominator,
        max_noise: float = DEFAULTS.max_noise,
        factored_stages: bool = DEFAULTS.factored_stages,
        max_terms: int | None = None,
    ) -> None:
        # Stored unchanged, as scikit-learn requires: checked in fit, so that set_params and clone behave.
        self.seed = seed
        self.time_budget = time_budget
        self.n_starts = n_starts
        self.steps = steps
        self.polish_steps = polish_steps
        self.holdout = holdout
        self.max_denominator = max_denominator
        self.max_noise = max_noise
        self.factored_stages = factored_stages
        self.max_terms = max_terms

    def fit(self, X: Any, y: Any) -> ArithmeticRegressor:
        """Search X (n, I) and y (n,) for the law; returns self."""
        config = self._config()
        if isinstance(X, pd.DataFrame):
            # Only the column count and names are recorded: arithnet converts the cells, naming a bad one.
            validate_data(self, X, y, skip_check_array=True)
            x, target = X, y
        else:
            x, target = validate_data(self, X, y, validate_separately=(X_CHECKS, Y_CHECKS))
            # A column vector y is accepted with scikit-learn's DataConversionWarning, as its regressors do.
            target = column_or_1d(target, warn=True)
            needed = max(config.min_rows, 2 * (np.shape(x)[1] + 2))
            check_array(x, ensure_all_finite=False, ensure_min_samples=needed, estimator=self)
        found = fit_law(table_from_arrays(x, target), config)
        self.fit_ = found
        self.law_ = found.law
        self.verification_ = found.verification
        self.equations_ = equations_frame(found)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The law on the rows of X (n, I), float64; NaN where the law is not defined."""
        check_is_fitted(self)
        return np.asarray(self.law_.predict(self._inputs(X)), dtype=np.float64)

    def sympy(self) -> sympy.Expr:
        """The chosen law's expression, in the input columns' names."""
        check_is_fitted(self)
        return self.law_.expression

    def latex(self) -> str:
        """The chosen law as LaTeX, with the target: ``y = \\frac{a b}{a + b}``."""
        check_is_fitted(self)
        return self.law_.latex()

    def _config(self) -> FitConfig:
        """The FitConfig of the parameters; its ValueError names a bad one."""
        return FitConfig(
            seed=self.seed,
            holdout=self.holdout,
            n_starts=self.n_starts,
            steps=self.steps,
            polish_steps=self.polish_steps,
            max_denominator=self.max_denominator,
            max_noise=self.max_noise,
            time_budget=self.time_budget,
            factored_stages=self.factored_stages,
            stages=self._stages(),
        )

    def _stages(self) -> tuple:
        """LawNet's default stages of at most ``max_terms`` monomials (all when None)."""
        if self.max_terms is None:
            return DEFAULTS.stages
        stages = tuple(stage for stage in DEFAULTS.stages if stage.n_terms <= self.max_terms)
        if not stages:
            smallest = min(stage.n_terms for stage in DEFAULTS.stages)
            raise ValueError(f"max_terms must be at least {smallest}, got {self.max_terms!r}")
        return stages

    def _inputs(self, X: Any) -> np.ndarray:
        """X for prediction as float64 (n, I): scikit-learn checks count and names, arithnet the values."""
        names = list(self.law_.inputs)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=False, skip_check_array=True)
            frame = X.set_axis(names, axis=1)  # by position, as scikit-learn matches columns
        else:
            frame = pd.DataFrame(validate_data(self, X, reset=False, **X_CHECKS), columns=names)
        return input_matrix(frame, names, SOURCE)


def equations_frame(found: LawFit) -> pd.DataFrame:
    """The Pareto front of a search as a DataFrame with :data:`EQUATION_COLUMNS`, simplest first."""
    rows = [
        {
            "complexity": candidate.complexity,
            "loss": candidate.error,
            "equation": candidate.row()["law"],
            "sympy_format": candidate.expression,
            "verified": candidate.verified.value,
            "template": candidate.template,
            "stage": candidate.stage,
            "chosen": candidate is found.chosen,
        }
        for candidate in found.candidates
    ]
    return pd.DataFrame(rows, columns=list(EQUATION_COLUMNS))
