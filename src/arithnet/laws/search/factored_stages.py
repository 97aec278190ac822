"""The factored stages' shapes and lattice powers (torch-free: the search lists its stages before any training).

A shape is how many terms, how many sums each term multiplies, and how far
the library of each sum reaches (degree 1: a constant and the columns; degree
2: their products too); a variant is a shape with a lattice power for every
sum. The stages grow, simplest first, and a stage runs only when no law is
verified yet: one sum, two sums, two terms, quadratic sums, three sums, three terms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One shape with its powers: ``powers`` (K, J) with 0 for a sum a term does not have, ``degrees`` (K, J)
    the library degree of each sum, and ``numerator_degree`` the library degree of the numerators."""

    powers: tuple[tuple[float, ...], ...]
    degrees: tuple[tuple[int, ...], ...]
    numerator_degree: int = 2

    @property
    def label(self) -> str:
        def power(p: float) -> str:
            return str(int(p)) if p == int(p) else f"{int(2 * p)}/2"

        terms = []
        for powers, degrees in zip(self.powers, self.degrees):
            sums = [f"S{'²' if d == 2 else ''}^{power(p)}" for p, d in zip(powers, degrees) if p != 0]
            terms.append("N·" + "·".join(sums) if sums else "N")
        return "y = " + " + ".join(terms)


#: Each variant's starts, and how many of them the polish keeps; Adam steps of the search (on the search rows)
#: and of the polish (on at most POLISH_ROWS training rows). Fewer than LawNet's (32 starts, 500 + 300 steps):
#: the numerators are solved and the powers fixed, so only the sums move.
N_STARTS, N_KEPT = 8, 2
STEPS, POLISH_STEPS = 300, 100
POLISH_ROWS = 512
#: Successive halving: every variant trains SCREEN_STEPS steps (its starts compared SELECT_BEFORE steps before
#: the end), then only the best third of the variants, and at least KEPT_VARIANTS, train the rest of the way.
SCREEN_STEPS, SELECT_BEFORE, KEPT_VARIANTS = 100, 20, 6

#: Lattice powers a sum may take (1 for a factor that multiplies the numerator).
POWERS = (1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.0, -2.0)
DENOMINATOR_POWERS = (-1.0, -2.0, 0.5, -0.5, 1.5, -1.5)


def one_term(powers: tuple[float, ...], degrees: tuple[int, ...]) -> Variant:
    return Variant((tuple(powers),), (tuple(degrees),))


def default_stages() -> list[tuple[str, list[Variant]]]:
    """The factored stages, simplest first (each runs only when nothing is verified yet)."""
    one_sum = [one_term((p,), (1,)) for p in DENOMINATOR_POWERS]
    two = [one_term(pair, (1, 1)) for pair in itertools.combinations_with_replacement(POWERS, 2)]
    terms = [
        Variant(((a,), (b,)), ((1,), (1,)))
        for a, b in itertools.combinations_with_replacement((-1.0, -2.0, -0.5, 0.5, 0.0), 2)
        if (a, b) != (0.0, 0.0)
    ]
    quadratic = [one_term((p,), (2,)) for p in (-1.0, 0.5, -0.5, 1.5, -1.5)]
    quadratic += [one_term((p, q), (2, 1)) for p in (0.5, -0.5, -1.0) for q in (1.0, -1.0, 0.5, -0.5)]
    three = [one_term(powers, (1, 1, 1)) for powers in ((1.0, 1.0, -1.0), (1.0, -1.0, -1.0), (1.0, 1.0, -0.5))]
    three += [one_term((1.0, 1.0, -1.0, -1.0), (1, 1, 1, 1))]
    three_terms = [
        Variant(((-1.0,), (-1.0,), (-1.0,)), ((1,), (1,), (1,))),
        Variant(((-1.0,), (-1.0,), (0.0,)), ((1,), (1,), (1,))),
    ]
    return [
        ("factored, one sum", one_sum),
        ("factored, two sums", two),
        ("factored, two terms", terms),
        ("factored, quadratic sums", quadratic),
        ("factored, three sums", three),
        ("factored, three terms", three_terms),
    ]
