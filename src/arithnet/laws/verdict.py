"""What a law search may say of a law: one enum, the words law.json and ``--json`` use."""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """How far a law is verified on the held-out rows.

    EXACT: every held-out row matches to rounding (``exact_tolerance``).
    NOISE: it misses by no more than the noise, leaves no structure, and no law of another
        structure does the same while predicting differently outside the data.
    AMBIGUOUS: it fits to the noise, but so does a law of another structure that predicts
        differently outside the data: the data cannot decide between them (the fit lists them).
    NOT_VERIFIED: none of the above.
    """

    EXACT = "exact"
    NOISE = "noise"
    AMBIGUOUS = "ambiguous"
    NOT_VERIFIED = "not verified"
