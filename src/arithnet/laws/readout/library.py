"""Libraries of monomials: every product of the columns of total degree up to d (SINDy's library)."""

from __future__ import annotations

import itertools
import math

import numpy as np


def monomial_library(n_inputs: int, degree: int) -> np.ndarray:
    """(L, I) integer exponents: 1, then each degree in turn (x₀, x₁, …, x₀², x₀x₁, …).

    Listed by degree, so that the library of a lower degree is the first rows of this one.
    """
    terms = [np.zeros(n_inputs)]
    for total in range(1, degree + 1):
        for combination in itertools.combinations_with_replacement(range(n_inputs), total):
            term = np.zeros(n_inputs)
            for i in combination:
                term[i] += 1.0
            terms.append(term)
    return np.stack(terms)


def library_size(n_inputs: int, degree: int) -> int:
    """How many monomials ``monomial_library`` has: C(I + d, d), in Python's integers (int64 would overflow)."""
    return math.comb(n_inputs + degree, degree)
