"""The networks a law search trains (torch): imported only by the trained stages, never for a refusal."""

from __future__ import annotations

from arithnet.laws.model.law_net import LawNet

__all__ = ["LawNet"]
