"""Laws from tables: networks of monomials and sums, trained by the engine, read out as exact formulas."""

from __future__ import annotations

from arithnet.laws.config import FitConfig, Stage
from arithnet.laws.fit import LawFit, fit_law
from arithnet.laws.front import Candidate
from arithnet.laws.law import Law, load_law

__all__ = ["Candidate", "FitConfig", "Law", "LawFit", "Stage", "fit_law", "load_law"]
