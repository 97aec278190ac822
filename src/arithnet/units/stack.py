"""Stack: two units one after the other, itself a unit (the ICLR task's two layers)."""

from __future__ import annotations

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.capabilities import LogParts, RunState, WatchesInterpolation
from arithnet.units.init import Sampler


def stack(x: torch.Tensor, first: Unit, second: Unit) -> torch.Tensor:
    """second(first(x)): (..., B, I) to (..., B, H) to (..., B, O)."""
    return second(first(x))


def layers(unit: Unit) -> list[Unit]:
    """The units a model is made of, in the order they draw their weights: a stack's two (or more), else the unit."""
    return [*layers(unit.first), *layers(unit.second)] if isinstance(unit, Stack) else [unit]


class Stack(Unit):
    """``second(first(x))``, with both units' penalties, projections and formulas.

    Unlike the registered units a stack is built from two units, not from
    (in_features, out_features, n_seeds); everything else of the unit
    interface it passes on to them: the penalties add up, the weights are
    drawn first then second, an interpolation MSE and a restart reach both
    units (each takes what it watches: ``WatchesInterpolation``, ``RunState``).
    A stack has ``log_parts`` (``LogParts``) exactly when its second unit has:
    ``Stack(first, second)`` is then a ``LogPartsStack``, whose ``log_parts``
    is the second unit's, read at the first unit's output.

    Args:
        first: the unit reading the inputs, (…, B, I) → (…, B, H).
        second: the unit reading its outputs, (…, B, H) → (…, B, O).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        first, second: the two units, with the same n_seeds.
    """

    name = "Stack"
    # What a stack can compute depends on its two units; the class alone knows
    # no solution (``exact_solution`` raises), so it promises none.
    operations = frozenset()

    def __new__(cls, first: Unit | None = None, second: Unit | None = None) -> Stack:
        # The class says what a stack offers (protocols are checked on it), and that follows its
        # second unit; copies and pickles call __new__ with no units and keep the class they had.
        if cls is Stack and isinstance(second, LogParts):
            cls = LogPartsStack
        return super().__new__(cls)

    def __init__(self, first: Unit, second: Unit) -> None:
        if first.out_features != second.in_features or first.n_seeds != second.n_seeds:
            raise ValueError("the units of a stack must agree on the hidden size and the number of seeds")
        super().__init__(first.in_features, second.out_features, first.n_seeds)
        self.first = first
        self.second = second
        self.default_lr = first.default_lr

    @property
    def label(self) -> str:
        return f"{self.first.label}>{self.second.label}"

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        self.first.reset_parameters(sampler)
        self.second.reset_parameters(sampler)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return stack(x, self.first, self.second)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        return self.first.regularization(step) + self.second.regularization(step)

    @torch.no_grad()
    def project_(self) -> None:
        self.first.project_()
        self.second.project_()

    def observe_interpolation_mse(self, mse: torch.Tensor) -> None:
        for unit in (self.first, self.second):
            if isinstance(unit, WatchesInterpolation):
                unit.observe_interpolation_mse(mse)

    @torch.no_grad()
    def forget_runs_(self, mask: torch.Tensor) -> None:
        for unit in (self.first, self.second):
            if isinstance(unit, RunState):
                unit.forget_runs_(mask)

    def sparsity_weights(self) -> list[torch.Tensor]:
        return self.first.sparsity_weights() + self.second.sparsity_weights()

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        return self.second.expression(self.first.expression(inputs, seed_index), seed_index)

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """Always a ValueError: a stack's solution depends on its two units, which the class does not know."""
        raise ValueError(
            f"{cls.name} has no built-in solution for {operation!r}: it depends on the two units it is built from"
        )

    def extra_repr(self) -> str:
        return ""


class LogPartsStack(Stack):
    """A stack whose second unit has ``log_parts``: so has the stack (``Stack`` builds it)."""

    def log_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.second.log_parts(self.first(x))
