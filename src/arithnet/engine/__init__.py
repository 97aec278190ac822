"""The one training engine: every run of ``train``, ``bench`` and ``fit`` goes through ``engine.fit``.

Its parts, one file each: losses, Adam, per-run clipping, the (compiled)
gradient step, best-step tracking, snapshot history, and the loop that
composes them with multi-start selection, restarts and logging.
"""

from arithnet.engine.config import EngineConfig, Problem
from arithnet.engine.history import History
from arithnet.engine.loop import Fit, LogCallback, ProgressCallback, fit
from arithnet.engine.losses import LOSSES, check_loss, get_loss

__all__ = [
    "LOSSES",
    "EngineConfig",
    "Fit",
    "History",
    "LogCallback",
    "Problem",
    "ProgressCallback",
    "check_loss",
    "fit",
    "get_loss",
]
