"""The table as the search sees it: columns divided by their scale, split into training and held-out rows.

The search works on z = x/sₓ and w = y/s_y, each column divided by the
geometric mean of its non-zero magnitudes, so that every value it fits is of
order 1: a column of electron masses in kilograms (1e-31) or of 1e300 gives
the same search as one of ones. The law is read out in the table's own units
(``readout.expression``), its constants carrying the scales, and verified
there (``verification``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def log_scale(values: np.ndarray) -> np.ndarray:
    """Each column's log of the geometric mean of |value| over its non-zero entries (0 for an all-zero column)."""
    values = np.asarray(values, dtype=np.float64)
    nonzero = values != 0
    with np.errstate(divide="ignore"):
        logs = np.where(nonzero, np.log(np.abs(values)), 0.0)
    return logs.sum(0) / np.maximum(nonzero.sum(0), 1)


@dataclass
class Rows:
    """The rows of one search, scaled: training rows (``x``, ``y``) and held-out rows, float64.

    ``log_x`` (I,) and ``log_y`` are the logarithms of the scales: a table
    value is exp(log_x)·z. Candidates are fitted on the training rows and
    checked on the held-out ones.
    """

    x: np.ndarray
    y: np.ndarray
    x_held: np.ndarray
    y_held: np.ndarray
    log_x: np.ndarray
    log_y: float

    @classmethod
    def scaled(cls, x: np.ndarray, y: np.ndarray, train: np.ndarray, held: np.ndarray) -> Rows:
        """Rows ``train`` and ``held`` of the table (x, y), each column divided by its scale (from all rows)."""
        log_x, log_y = log_scale(x), float(log_scale(y[:, None])[0])
        z, w = x / np.exp(log_x), y / np.exp(log_y)
        return cls(z[train], w[train], z[held], w[held], log_x, log_y)

    @property
    def n_inputs(self) -> int:
        return self.x.shape[1]

    def head(self, n_rows: int) -> Rows:
        """The first ``n_rows`` training rows (a random subset: the split is random) and every held-out row."""
        return Rows(self.x[:n_rows], self.y[:n_rows], self.x_held, self.y_held, self.log_x, self.log_y)
