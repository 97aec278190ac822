"""What every arithnet unit offers the trainer, the formula reader and the tests.

A unit is a ``torch.nn.Module``. Built with ``n_seeds=None`` it is an ordinary
layer: weights of shape (O, I), input (B, I), output (B, O). Built with
``n_seeds=S`` it holds S independent copies of its weights, (S, O, I), and maps
(S, B, I) to (S, B, O): that is how the trainer runs S seeds as one tensor
program. Forward passes are written with negative dimensions so that one body
serves both shapes.

The trainer never asks a unit's name. It only uses this interface:

- ``default_lr``: the learning rate of the unit's paper;
- ``regularization(step)``: the penalty to add to the loss at that step, one
  value per seed (shape (S,) or ()), zero by default;
- ``project_()``: the clamp or projection applied after every optimiser step;
- ``operations``: the operations the unit can represent exactly.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sympy
import torch
from torch import nn

from arithnet.units.init import Sampler
from arithnet.units.schedules import ramp


class Unit(nn.Module):
    """Base class of arithnet's arithmetic units."""

    #: Registry name, the paper's acronym.
    name: ClassVar[str]
    #: Operations the unit can represent exactly with in_features=2.
    operations: ClassVar[frozenset[str]]
    #: Learning rate used by the unit's paper (Adam).
    default_lr: ClassVar[float] = 1e-3
    #: True when the exact solutions stay exact for negative inputs too
    #: (an instance may set it from its options).
    handles_signs: bool = True
    #: Relative error of ``exact_solution`` in float64 (an ε inside a
    #: logarithm, for instance, keeps some units from being exact).
    exact_rtol: ClassVar[float] = 1e-10
    #: Training options the unit's paper uses, read by the benchmark trainer as
    #: defaults: gradient values clipped to ±grad_clip_value, each seed's
    #: gradient norm clipped to grad_clip_norm (None: no clipping).
    grad_clip_value: ClassVar[float | None] = None
    grad_clip_norm: ClassVar[float | None] = None
    #: Training losses the unit looks at in ``stalled`` (0: it never asks for a restart).
    stall_window: int = 0
    #: Other registry names for this class with fixed options, e.g.
    #: ``{"G-NALU": {"golden": True}}``: variants are options, not classes.
    variants: ClassVar[dict[str, dict[str, Any]]] = {}

    in_features: int
    out_features: int
    n_seeds: int | None

    def __init__(self, in_features: int, out_features: int, n_seeds: int | None = None) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError("in_features and out_features must be at least 1")
        if n_seeds is not None and n_seeds < 1:
            raise ValueError("n_seeds must be at least 1")
        self.in_features = in_features
        self.out_features = out_features
        self.n_seeds = n_seeds

    # -- shapes -----------------------------------------------------------
    def _shape(self, *shape: int) -> tuple[int, ...]:
        """A parameter shape with the seed dimension in front when there is one."""
        return shape if self.n_seeds is None else (self.n_seeds, *shape)

    def _parameter(self, *shape: int) -> nn.Parameter:
        return nn.Parameter(torch.empty(self._shape(*shape)))

    # -- trainer interface ----------------------------------------------
    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        raise NotImplementedError

    def regularization(self, step: int) -> torch.Tensor:
        """Penalty to add to the loss at ``step``: shape (S,), or () without seeds."""
        return torch.zeros(() if self.n_seeds is None else (self.n_seeds,))

    @torch.no_grad()
    def project_(self) -> None:
        """Clamp or project the weights in place after an optimiser step."""

    def observe_interpolation_mse(self, mse: torch.Tensor) -> None:
        """The trainer reports each seed's latest interpolation MSE (S,); most units ignore it."""

    def stalled(self, losses: torch.Tensor, step: int) -> torch.Tensor:
        """Seeds (S,) to start again, given the recent training losses (T, S); never by default."""
        return torch.zeros(self._shape(), dtype=torch.bool)

    @torch.no_grad()
    def reinitialize_(self, mask: torch.Tensor, sampler: Sampler | None = None) -> None:
        """Fresh initial weights for the seeds in ``mask`` (S,); the others keep theirs.

        Every seed is drawn and only the masked ones are kept, so with a keyed
        ``Sampler`` a seed's new weights depend on its own stream alone.
        """
        previous = [parameter.clone() for parameter in self.parameters()]
        self.reset_parameters(sampler)
        for parameter, before in zip(self.parameters(), previous):
            chosen = mask.reshape(mask.shape + (1,) * (parameter.dim() - mask.dim()))
            parameter.copy_(torch.where(chosen, parameter, before))

    def sparsity_weights(self) -> list[torch.Tensor]:
        """The weights whose distance to {−1, 0, 1} is the sparsity error, each (S, ...)."""
        return list(self.parameters())

    # -- regularisation ramp (ICLR 2020), shared by the units that use it -------
    def _set_ramp(self, scale: float, start: int, end: int) -> None:
        if end < start:
            raise ValueError("regularization_end must not come before regularization_start")
        self.regularization_scale = scale
        self.regularization_start = start
        self.regularization_end = end

    def ramp_weight(self, step: int) -> float:
        """λ(t) of the unit's ramped regulariser at ``step``."""
        return ramp(step, self.regularization_scale, self.regularization_start, self.regularization_end)

    # -- formulas -----------------------------------------------------------
    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """The unit's outputs as sympy expressions of ``inputs``, weights as floats."""
        raise NotImplementedError

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """A state dict (without seed dimension) computing x0 op x1 exactly."""
        raise NotImplementedError

    def _weights(self, parameter: torch.Tensor, seed_index: int) -> list[list[float]]:
        """Plain floats of one seed's weight matrix, for building expressions."""
        value = parameter.detach() if self.n_seeds is None else parameter.detach()[seed_index]
        return value.double().tolist()

    def extra_repr(self) -> str:
        seeds = "" if self.n_seeds is None else f", n_seeds={self.n_seeds}"
        return f"in_features={self.in_features}, out_features={self.out_features}{seeds}"
