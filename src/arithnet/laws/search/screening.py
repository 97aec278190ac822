"""Columns that do not matter, screened out of a wide table before the search.

The search's enumerated structures grow with the square of the columns and
its networks' exponents with their number; a law rarely uses more than a
handful. A table of more than SCREEN_ABOVE input columns is screened: an
extremely randomised forest (scikit-learn's ExtraTreesRegressor) learns y from
the columns and from a shuffled copy of each (Boruta's shadows), and a column
is kept when its importance exceeds the largest importance of any shadow,
which is what a column of pure noise can reach. The forest's trees see any
monotone function of a column alike, and its splits see interactions, so a
column that enters only through a product or a ratio is kept as well.
"""

from __future__ import annotations

import numpy as np

#: Tables with more input columns than this are screened; narrower ones keep every column.
SCREEN_ABOVE = 10
#: Rows the forest learns from (the first of a random order), its trees, and the rows a leaf holds at least: trees
#: grown to leaves of 10 rank the columns as fully grown ones do (the same columns kept on 40 to 100 columns, laws
#: in and out of the class) in a quarter of the time, which the time budget counts.
SCREEN_ROWS = 2000
N_TREES = 50
MIN_LEAF_ROWS = 10
#: A column is kept when its importance is above this many times the largest shadow's, in most of N_REPEATS
#: forests with fresh shadows.
MARGIN = 1.0
N_REPEATS = 3


def screened_columns(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Indices of the columns that matter (all of them for a table of at most SCREEN_ABOVE columns)."""
    n_inputs = x.shape[1]
    if n_inputs <= SCREEN_ABOVE:
        return np.arange(n_inputs)
    from sklearn.ensemble import ExtraTreesRegressor

    rows, target = _features(x[:SCREEN_ROWS]), _target(y[:SCREEN_ROWS])
    votes = np.zeros(n_inputs)
    for repeat in range(N_REPEATS):
        rng = np.random.default_rng([seed, repeat])
        shadows = np.stack([rng.permutation(column) for column in rows.T], 1)
        forest = ExtraTreesRegressor(
            n_estimators=N_TREES, min_samples_leaf=MIN_LEAF_ROWS, random_state=seed + repeat, n_jobs=1, max_features=0.3
        )
        forest.fit(np.concatenate([rows, shadows], 1), target)
        importance = forest.feature_importances_
        votes += importance[:n_inputs] > MARGIN * importance[n_inputs:].max()
    kept = np.flatnonzero(votes * 2 > N_REPEATS)
    return kept if len(kept) else np.arange(n_inputs)


def _features(x: np.ndarray) -> np.ndarray:
    """log|x| where a column is one-signed without zeros (products become sums, which trees split on), else x."""
    one_signed = (x > 0).all(0) | (x < 0).all(0)
    with np.errstate(divide="ignore"):
        return np.where(one_signed, np.log(np.abs(x)), x)


def _target(y: np.ndarray) -> np.ndarray:
    """log|y| when y is one-signed without zeros, else y; standardised."""
    if (y > 0).all() or (y < 0).all():
        y = np.log(np.abs(y))
    spread = np.std(y)
    return (y - y.mean()) / (spread if spread > 0 else 1.0)


def screening_note(names: tuple[str, ...], kept: np.ndarray) -> str | None:
    """One line naming the columns screened out, or None when every column was kept."""
    dropped = [name for index, name in enumerate(names) if index not in set(kept.tolist())]
    if not dropped:
        return None
    shown = ", ".join(dropped[:10]) + (f", … ({len(dropped)} in all)" if len(dropped) > 10 else "")
    return (
        f"{len(dropped)} of {len(names)} columns looked unrelated to the target and were left out of the search: "
        f"{shown}; search them with screening off (--no-screen) to keep them"
    )
