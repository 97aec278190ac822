"""SquareNet: the series' network for ×, y = W_out · (W_in · x)²."""

from __future__ import annotations

from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler


def square_net(x: torch.Tensor, weight_in: torch.Tensor, weight_out: torch.Tensor) -> torch.Tensor:
    """y = W_out (W_in x)²: (..., B, I) to (..., B, O), in the weights' dtype."""
    return (x.to(weight_in.dtype) @ weight_in.mT).square() @ weight_out.mT


class SquareNet(Unit):
    r"""Linear map, square, linear map: the quarter-squares network.

    .. math:: y = W_{out} (W_{in} x)^{\circ 2}

    Multiplication by quarter squares, ab = ((a + b)² − (a − b)²) / 4:
    ``W_in = [[1, 1], [1, -1]]`` and ``W_out = [1/4, -1/4]``.

    Capabilities (``units.capabilities``): ``CanonicalForm`` and ``Refit`` (the readout).

    Args:
        in_features: I. out_features: O. n_seeds: S independent copies, or None.
        hidden_features: H (default I).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_in: (H, I) or (S, H, I), U[-1, 1]. weight_out: (O, H) or (S, O, H), U[-1, 1].

    Examples:
        >>> unit = SquareNet(2, 1).double()
        >>> unit.load_state_dict(SquareNet.exact_solution("mul"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-18.]], dtype=torch.float64, grad_fn=<MmBackward0>)
    """

    name: ClassVar[str] = "SquareNet"
    operations: ClassVar[frozenset[str]] = frozenset({"mul"})
    default_lr: ClassVar[float] = 1e-2

    def __init__(
        self, in_features: int, out_features: int, n_seeds: int | None = None, *, hidden_features: int | None = None
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.hidden_features = hidden_features or in_features
        self.weight_in = self._parameter(self.hidden_features, in_features)
        self.weight_out = self._parameter(out_features, self.hidden_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        sampler.uniform_(self.weight_in, -1.0, 1.0)
        sampler.uniform_(self.weight_out, -1.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return square_net(x, self.weight_in, self.weight_out)

    @torch.no_grad()
    def canonical_(self) -> None:
        """The same quadratic form xᵀQx by its eigenvectors: rows of W_in scaled to largest magnitude 1.

        Q = W_inᵀ diag(W_out) W_in (one output) has many factorisations (rows
        (1, 2) and (1, −2) compute x0·x1 as well as (1, 1) and (1, −1)); its
        eigen-decomposition is the one standard form, and for x0·x1 it is the
        quarter squares. Only for one output and H = I; otherwise each row is just scaled.
        """
        if self.out_features == 1 and self.hidden_features == self.in_features:
            quadratic = self.weight_in.double().mT @ (self.weight_out.double().mT * self.weight_in.double())
            self._set_quadratic_form(quadratic)
            return
        scale = self.weight_in.abs().amax(-1, keepdim=True).clamp_min(1e-300)  # (..., H, 1)
        self.weight_in.div_(scale)
        self.weight_out.mul_(scale.mT.square())

    @torch.no_grad()
    def refit_(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """Q by least squares over the monomials x_i·x_j, then its eigen-form; one output and H = I only."""
        if self.out_features != 1 or self.hidden_features != self.in_features:
            return
        x = x.double()
        rows, cols = torch.triu_indices(self.in_features, self.in_features)
        monomials = x[..., rows] * x[..., cols]  # (S, B, M)
        coefficients = torch.linalg.lstsq(monomials, target.double()).solution[..., 0]  # (S, M)
        quadratic = torch.zeros(*x.shape[:-2], self.in_features, self.in_features, dtype=torch.float64)
        off_diagonal = torch.where(rows == cols, 1.0, 0.5).double()
        quadratic[..., rows, cols] = coefficients * off_diagonal
        quadratic[..., cols, rows] = coefficients * off_diagonal
        self._set_quadratic_form(quadratic)

    def _set_quadratic_form(self, quadratic: torch.Tensor) -> None:
        values, vectors = torch.linalg.eigh(quadratic)  # Q = V diag(λ) Vᵀ; rows of W_in are the eigenvectors
        scale = vectors.abs().amax(-2, keepdim=True).clamp_min(1e-300)
        self.weight_in.copy_((vectors / scale).mT.to(self.weight_in.dtype))
        self.weight_out.copy_((values * scale[..., 0, :].square())[..., None, :].to(self.weight_out.dtype))

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        rows = self._weights(self.weight_in, seed_index)
        outputs = self._weights(self.weight_out, seed_index)
        squares = [sum(sympy.Float(w) * x for w, x in zip(row, inputs)) ** 2 for row in rows]
        return [sum(sympy.Float(w) * square for w, square in zip(row, squares)) for row in outputs]

    @classmethod
    def exact_solution(
        cls, operation: str, in_features: int = 2, *, hidden_features: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Quarter squares of x0 and x1; further inputs and hidden rows get zero weights."""
        hidden = hidden_features or in_features
        if operation not in cls.operations or in_features < 2 or hidden < 2:
            raise cls._no_solution(operation, in_features)
        weight_in = torch.zeros(hidden, in_features)
        weight_in[:2, :2] = torch.tensor([[1.0, 1.0], [1.0, -1.0]])
        weight_out = torch.zeros(1, hidden)
        weight_out[0, :2] = torch.tensor([0.25, -0.25])
        return {"weight_in": weight_in, "weight_out": weight_out}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, hidden_features={self.hidden_features}"
