"""The readout: fitted structures to exact expressions, in float64 numpy (no torch).

It owns the table as the search sees it (``rows``), the structures and their
arithmetic (``structure``, ``algebra``, ``library``), exponents onto the
lattice (``exponents``), constants read as exact numbers and snapped in turn
(``constants``, ``in_turn``), square roots (``roots``), the short list of
distinct structures (``shortlist``), and the expression in the table's own
units (``expression``, and ``composite`` for the factored class).

It may import ``laws.config`` and ``laws.law``, never ``laws.search``,
``laws.verification`` or ``laws.model``.
"""
