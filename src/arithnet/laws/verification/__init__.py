"""Verification: candidates judged on the rows, and the verdict on the law chosen.

It owns the judge (``judge``: held-out errors, exactness, leftover
structure), the test that what a law leaves is noise (``noise``), the
candidates, their Pareto front and the choice of the law (``front``), and what
leaves a law ambiguous (``ambiguity``): laws of other structures that fit as
well, and constants that other exact numbers fit as well. The verdicts are
``laws.verdict.Verdict``.

It may import ``laws.config``, ``laws.law``, ``laws.readout`` and
``laws.verdict``, never ``laws.search`` or ``laws.model``.
"""
