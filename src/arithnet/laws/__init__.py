"""Laws from tables: a search that enumerates and trains networks of monomials and sums, read out as exact formulas.

Names are imported on first use (PEP 562): ``from arithnet.laws import FitConfig``
checks settings without importing torch, and ``arithnet.laws.Law`` reads a
law file with numpy alone.

Rooms: ``law`` (the law as data: tree, evaluation, printing, law.json),
``readout`` (structures to snapped expressions, numpy), ``verification``
(judging candidates, the verdict), ``search`` (the stages), ``model`` (the
networks the trained stages fit, torch), ``fit`` (``fit_law``).
"""

from __future__ import annotations

from arithnet.lazy import lazy_exports

_EXPORTS = {
    "FitConfig": "arithnet.laws.config",
    "Stage": "arithnet.laws.config",
    "Law": "arithnet.laws.law",
    "load_law": "arithnet.laws.law",
    "Verdict": "arithnet.laws.verdict",
    "Candidate": "arithnet.laws.verification.front",
    "LawFit": "arithnet.laws.fit",
    "fit_law": "arithnet.laws.fit",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
