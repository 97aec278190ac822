"""What every arithnet unit is: its maths, and what the engine, the formula reader and the tests read of it.

A unit is a ``torch.nn.Module``. Built with ``n_seeds=None`` it is an ordinary
layer: weights of shape (O, I), input (B, I), output (B, O). Built with
``n_seeds=S`` it holds S independent copies of its weights, (S, O, I), and maps
(S, B, I) to (S, B, O): that is how the engine runs S seeds (or seed × start
runs) as one tensor program. Every parameter and every buffer then has the
seed dimension first. Forward passes are written with negative dimensions so
that one body serves both shapes.

Input, the same for every unit (checked once, in ``Unit.__call__``, before
``forward`` runs; ``check_input`` says what is wrong):

- dtype float32 or float64, whatever the unit's own dtype; the unit computes
  in the dtype of its parameters and answers in it. Any other dtype (integers,
  float16, bfloat16, complex, bool) is a ValueError naming the unit and the
  dtype: a silent cast would hide a caller's mistake.
- without seeds: (B, I) → (B, O), or one sample (I,) → (O,), as for
  ``nn.Linear``;
- with ``n_seeds=S``: (S, B, I) → (S, B, O), or (B, I) → (S, B, O), the same
  batch for every seed (the evaluation's fixed sets). A 1-D input is a
  ValueError: one sample for all seeds or one input per seed cannot be told
  apart, so the caller must say which.
- anything else (other ranks, a last dimension other than I, a leading
  dimension other than S) is a ValueError naming the unit and the shape.

The engine never asks a unit's name. What every unit is (S is the number
of runs, () replaces (S,) for a unit without seeds):

- ``Cls(in_features, out_features, n_seeds=None, *, **options)``: every
  registered unit; all options are keyword-only. ``UnitSpec.build(I, O, S,
  **options)`` builds a registry entry with its variant's options.
  (``Stack(first, second)`` is built from two units instead.)
- ``in_features``, ``out_features``, ``n_seeds``: I, O and S (or None).
- ``forward(x)``: the maths, through ``__call__``, which checks the input.
- ``reset_parameters(sampler=None)``: draws every run's weights; called by the
  engine once after building, with a ``Sampler`` keyed by the runs' streams,
  and again for a restart (the engine keeps the restarted runs' new weights only).
- ``regularization(step)`` → (S,) in the dtype of the parameters: the penalty
  added to each run's data loss at ``step``, every step, before ``backward``.
  ``step`` is a Python int or a 0-d tensor (the compiled step passes a tensor
  so that torch.compile does not recompile each step); both give the same
  value. Zero by default.
- ``project_()``: the clamp or projection applied in place after every
  optimiser step, part of the unit's maths (a constraint on its weights, or a
  change of weights that keeps the function); nothing by default.
- ``expression(inputs, seed_index)``: the unit as sympy expressions of
  ``inputs``, weights as floats, for the formula reader.

And what describes it, read by the engine's setup, the evaluation and the tests:

- ``default_lr``, ``grad_clip_value``, ``grad_clip_norm`` (class attributes):
  the paper's learning rate and gradient clipping (None: none). A variant that
  trains with other clipping answers through the classmethod
  ``training_clipping(options)`` (and ``UnitSpec.grad_clip_value`` /
  ``grad_clip_norm``, which ask it with the variant's options); its instances
  carry the same values as instance attributes.
- ``select(index)`` → a new unit of the same class and options holding the
  runs ``index`` (K,) (K may differ from S; indices may repeat), every
  parameter and buffer indexed along dim 0: the engine's multi-start
  selection (keep each seed's best start).
- ``train()`` / ``eval()``: NRU and NMRU compute differently in training and
  at evaluation; the engine evaluates in eval mode.
- ``operations``, ``exact_solution(operation, in_features=2)`` (classmethod):
  the operations the unit can represent exactly, and a state dict (without
  seed dimension) computing x0 op x1; ValueError for any other operation.
  Options that change the state dict's keys or shapes are keyword arguments
  with the class default (``mixing``, ``hidden_features`` of LogExp and SquareNet);
  ``UnitSpec.exact_solution(operation, in_features)`` passes a registry
  variant's own. ``exact_rtol`` is its relative error in float64,
  ``handles_signs`` False when it is exact for positive inputs only.
- ``sparsity_weights()``: the weights whose distance to {−1, 0, 1} is the
  sparsity error.

Anything more a unit offers is a small protocol of ``units/capabilities.py``
that the engine, the losses or the readout check for (the log-space form,
the closed-form output layer, the readout's canonical form and refit, the
interpolation MSE, per-run state). How a unit is trained beyond that (iNALU's
restarts, RatioNet's snapping) is not the unit's: those are training rules,
engine callbacks (``arithnet.engine.callbacks``) that the code training the
unit supplies (``arithnet.training.rules``).

Per step the engine calls: forward, ``regularization(step)``, backward,
clipping, optimiser step, ``project_()``.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import sympy
import torch
from torch import nn

from arithnet.units.init import Sampler

#: The input dtypes every unit takes; it computes in its parameters' dtype whichever it gets.
INPUT_DTYPES = (torch.float32, torch.float64)


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
    #: Training options the unit's paper uses, read by the engine as
    #: defaults: gradient values clipped to ±grad_clip_value, each seed's
    #: gradient norm clipped to grad_clip_norm (None: no clipping).
    grad_clip_value: ClassVar[float | None] = None
    grad_clip_norm: ClassVar[float | None] = None
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

    # -- input ------------------------------------------------------------
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # The input contract is checked here, once for every unit, so that no
        # forward repeats it; forward always sees (B, I) or (S, B, I).
        single = self.check_input(x)
        y = super().__call__(x[None] if single else x)
        return y[0] if single else y

    def check_input(self, x: torch.Tensor) -> bool:
        """ValueError unless ``x`` is an input this unit takes (module docstring); True for one sample (I,)."""
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"{self.label} takes a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in INPUT_DTYPES:
            raise ValueError(f"{self.label} takes float32 or float64 input, got {x.dtype}")
        n_inputs, n_seeds = self.in_features, self.n_seeds
        if n_seeds is None:
            allowed, expected, built = x.dim() in (1, 2), f"(B, {n_inputs}) or ({n_inputs},)", "without seeds"
        else:
            allowed = x.dim() == 2 or (x.dim() == 3 and x.shape[0] == n_seeds)
            expected, built = f"({n_seeds}, B, {n_inputs}) or (B, {n_inputs})", f"with n_seeds={n_seeds}"
        if not allowed or x.shape[-1] != n_inputs:
            raise ValueError(f"{self.label} {built} takes input {expected}, got shape {tuple(x.shape)}")
        return n_seeds is None and x.dim() == 1

    @property
    def label(self) -> str:
        """The registry name of this unit, its variant's when its options make one: for messages."""
        for variant, options in self.variants.items():
            if all(getattr(self, key, None) == value for key, value in options.items()):
                return variant
        return self.name

    # -- shapes -----------------------------------------------------------
    def _shape(self, *shape: int) -> tuple[int, ...]:
        """A parameter or buffer shape with the seed dimension in front when there is one."""
        return shape if self.n_seeds is None else (self.n_seeds, *shape)

    def _parameter(self, *shape: int) -> nn.Parameter:
        return nn.Parameter(torch.empty(self._shape(*shape)))

    def _like_parameters(self, value: float | torch.Tensor) -> torch.Tensor:
        """A schedule's value (float, or float64 tensor for a tensor step) in the parameters' dtype and device.

        Without this a 0-d float64 weight times a 0-d float32 penalty would
        give float64: two 0-d tensors promote like any others.
        """
        parameter = next(self.parameters())
        return torch.as_tensor(value, dtype=parameter.dtype, device=parameter.device)

    # -- the maths: weights, penalty, projection --------------------------------
    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        """Draw every run's weights, from ``sampler`` (torch's global generator if None)."""
        raise NotImplementedError

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        """Penalty to add to the loss at ``step`` (int or 0-d tensor): (S,), or () without seeds."""
        parameter = next(self.parameters())
        return parameter.new_zeros(self._shape())

    @torch.no_grad()
    def project_(self) -> None:
        """Clamp or project the weights in place after an optimiser step."""

    # -- for the engine and the evaluation ---------------------------------------
    @classmethod
    def training_clipping(cls, options: dict[str, Any]) -> tuple[float | None, float | None]:
        """(grad_clip_value, grad_clip_norm) of the paper for a unit built with ``options``.

        The class attributes by default; a class whose variants train with
        other clipping (NMRU-vanilla: none) overrides it, and its instances
        set the two attributes to the same answer.
        """
        return cls.grad_clip_value, cls.grad_clip_norm

    def select(self, index: torch.Tensor) -> Unit:
        """A new unit of the same class and options holding the runs ``index`` (K,), indices may repeat.

        A deep copy (options, mode, buffers) whose parameters and buffers are
        indexed along their leading seed dimension; the copy's n_seeds is K.
        """
        if self.n_seeds is None:
            raise ValueError("select needs a unit built with n_seeds")
        index = torch.as_tensor(index, dtype=torch.int64).reshape(-1)
        chosen = copy.deepcopy(self)
        with torch.no_grad():
            for module in chosen.modules():
                if isinstance(module, Unit):
                    module.n_seeds = len(index)
                for name, parameter in module.named_parameters(recurse=False):
                    picked = parameter[index.to(parameter.device)]
                    setattr(module, name, nn.Parameter(picked, requires_grad=parameter.requires_grad))
                for name, buffer in module.named_buffers(recurse=False):
                    setattr(module, name, buffer[index.to(buffer.device)])
        return chosen

    def sparsity_weights(self) -> list[torch.Tensor]:
        """The weights whose distance to {−1, 0, 1} is the sparsity error, each (S, ...)."""
        return list(self.parameters())

    # -- formulas -----------------------------------------------------------
    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        """The unit's outputs as sympy expressions of ``inputs``, weights as floats."""
        raise NotImplementedError

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """A state dict (without seed dimension) computing x0 op x1 exactly; ValueError if there is none."""
        raise ValueError(f"{cls.__name__} has no built-in solution for {operation!r}")

    @classmethod
    def _no_solution(cls, operation: str, in_features: int) -> ValueError:
        return ValueError(f"{cls.name} has no built-in solution for {operation!r} with {in_features} inputs")

    def _weights(self, parameter: torch.Tensor, seed_index: int) -> list[list[float]]:
        """Plain floats of one seed's weight matrix, for building expressions."""
        value = parameter.detach() if self.n_seeds is None else parameter.detach()[seed_index]
        return value.double().tolist()

    def extra_repr(self) -> str:
        seeds = "" if self.n_seeds is None else f", n_seeds={self.n_seeds}"
        return f"in_features={self.in_features}, out_features={self.out_features}{seeds}"
