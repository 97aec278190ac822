"""What some units offer beyond the base: small protocols that the engine, the losses and the readout check for.

A unit is its maths (``units/base.py``). Anything else a unit may offer is
one of these protocols, each a method or two with nothing else attached: a
unit has the capability exactly when it has the method, which
``isinstance(unit, LogParts)`` checks on a unit and ``issubclass(cls,
LogParts)`` on a class (``runtime_checkable``). No unit declares a flag, and
no caller asks a unit's name. Shape letters: S runs, B batch, I inputs, O outputs.

| protocol | method | units | who asks |
|---|---|---|---|
| ``LogParts`` | ``log_parts(x)`` | LogExp, a Stack whose second unit has it | the log-space loss |
| ``Projected`` | ``projected(x, target)`` | RatioNet, LawNet, FactorNet | the projected loss |
| ``CanonicalForm`` | ``canonical_()`` | SquareNet, LogExp | the default recipe's readout |
| ``Refit`` | ``refit_(x, target)`` | LinearNet, SquareNet, LogExp | the default recipe's readout |
| ``WatchesInterpolation`` | ``observe_interpolation_mse(mse)`` | iNALU, Stack | the engine, at every evaluation |
| ``RunState`` | ``forget_runs_(mask)`` | iNALU, Stack | the engine, at every restart |
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class LogParts(Protocol):
    """A unit computing y = Re exp(z), which gives z: the log-space loss compares Re z with log|t|."""

    def log_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Re z, Im z), each shaped like the output (S, B, O), for the input ``x``."""
        ...


@runtime_checkable
class Projected(Protocol):
    """A unit whose output layer is linear, so that it can be solved for each batch (variable projection)."""

    def projected(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The output (S, B, O) with the output layer solved for ``target`` (S, B), differentiable in the rest."""
        ...


@runtime_checkable
class CanonicalForm(Protocol):
    """A unit whose weights have a symmetry: one standard form of each function reads as the simplest formula."""

    def canonical_(self) -> None:
        """Move the weights, in place, to the standard form of the same (or nearly the same) function.

        The readout verifies every candidate on data, so a form that changes
        the function slightly is only ever a candidate.
        """
        ...


@runtime_checkable
class Refit(Protocol):
    """A unit with a part that is least squares once its structure is fixed."""

    def refit_(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """Set that part, in place, to its float64 least-squares solution on ``x`` (S, B, I), ``target`` (S, B, O)."""
        ...


@runtime_checkable
class WatchesInterpolation(Protocol):
    """A unit whose regularizer depends on each run's latest interpolation (validation) MSE: iNALU's."""

    def observe_interpolation_mse(self, mse: torch.Tensor) -> None:
        """Each run's latest interpolation MSE (S,), reported whenever the engine evaluates one."""
        ...


@runtime_checkable
class RunState(Protocol):
    """A unit that keeps per-run state besides its weights (iNALU: whether each run fits its interpolation data)."""

    def forget_runs_(self, mask: torch.Tensor) -> None:
        """Return the runs in ``mask`` (S,) bool to the state of a new unit: they are being restarted."""
        ...
