"""The one training engine: every run of ``train``, ``bench`` and ``fit`` goes through ``engine.fit``.

Its parts, one file each: losses, Adam, per-run clipping, the (compiled)
gradient step, best-step tracking, snapshot history, the callbacks through
which training rules (restarts, snapping) reach the loop, and the loop that
composes them with multi-start selection, restarts and logging.
"""

from arithnet.engine.callbacks import Callback, NaNReset, restart_
from arithnet.engine.config import EngineConfig, Problem
from arithnet.engine.history import History
from arithnet.engine.loop import Fit, LogCallback, ProgressCallback, fit
from arithnet.engine.losses import LOSSES, check_loss, get_loss
from arithnet.engine.step import Step

__all__ = [
    "LOSSES",
    "Callback",
    "EngineConfig",
    "Fit",
    "History",
    "LogCallback",
    "NaNReset",
    "Problem",
    "ProgressCallback",
    "Step",
    "check_loss",
    "fit",
    "get_loss",
    "restart_",
]
