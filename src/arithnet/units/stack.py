"""Stack: two units one after the other, itself a unit (the ICLR task's two layers)."""

from __future__ import annotations

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


def stack(x: torch.Tensor, first: Unit, second: Unit) -> torch.Tensor:
    """second(first(x)): (..., B, I) to (..., B, H) to (..., B, O)."""
    return second(first(x))


class Stack(Unit):
    """``second(first(x))``, with both units' penalties, projections, restarts and formulas.

    Unlike the registered units a stack is built from two units, not from
    (in_features, out_features, n_seeds); everything else of the unit
    interface it passes on to them: the penalties add up, a run restarts when
    either unit asks, and ``log_parts`` is the second unit's, read at the
    first unit's output.

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

    def __init__(self, first: Unit, second: Unit) -> None:
        if first.out_features != second.in_features or first.n_seeds != second.n_seeds:
            raise ValueError("the units of a stack must agree on the hidden size and the number of seeds")
        super().__init__(first.in_features, second.out_features, first.n_seeds)
        self.first = first
        self.second = second
        self.default_lr = first.default_lr

    # The engine reads these from the instance: they follow the two units.
    @property
    def observes_loss(self) -> bool:  # type: ignore[override]
        return self.first.observes_loss or self.second.observes_loss

    @property
    def restart_resets_optimizer(self) -> bool:  # type: ignore[override]
        """A restart forgets the moments if a watching part asks it (a stack restarts both parts at once)."""
        watching = [unit for unit in (self.first, self.second) if unit.observes_loss]
        return any(unit.restart_resets_optimizer for unit in watching) if watching else True

    @property
    def has_log_parts(self) -> bool:  # type: ignore[override]
        return self.second.has_log_parts

    @property
    def label(self) -> str:
        return f"{self.first.label}>{self.second.label}"

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        self.first.reset_parameters(sampler)
        self.second.reset_parameters(sampler)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return stack(x, self.first, self.second)

    def log_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.second.log_parts(self.first(x))

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        return self.first.regularization(step) + self.second.regularization(step)

    @torch.no_grad()
    def project_(self) -> None:
        self.first.project_()
        self.second.project_()

    def observe_interpolation_mse(self, mse: torch.Tensor) -> None:
        self.first.observe_interpolation_mse(mse)
        self.second.observe_interpolation_mse(mse)

    def observe_loss(self, loss: torch.Tensor, step: int) -> torch.Tensor | None:
        # Both units see every loss, so that each keeps a full history of its own.
        answers = [unit.observe_loss(loss, step) for unit in (self.first, self.second) if unit.observes_loss]
        answers = [answer for answer in answers if answer is not None]
        if not answers:
            return None
        return answers[0] | answers[1] if len(answers) == 2 else answers[0]

    @torch.no_grad()
    def reinitialize_(self, mask: torch.Tensor, sampler: Sampler | None = None) -> None:
        # First, then second, as reset_parameters draws: the same numbers as
        # re-initialising the stack as a whole, and each unit clears its own state.
        self.first.reinitialize_(mask, sampler)
        self.second.reinitialize_(mask, sampler)

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
