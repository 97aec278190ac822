"""LogExp: the seed post's unit, y = Re exp(W_out · log(W_in · x))."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler

#: exp() is applied to at most this value: exp(60) ≈ 1.1e26 keeps outputs and
#: their gradients finite in float32 (max ≈ 3.4e38) as well as in float64.
LOG_OUTPUT_MAX = 60.0


def logexp_parts(
    x: torch.Tensor, weight_in: torch.Tensor, weight_out: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary parts of z = W_out · log(W_in · x), complex logarithm.

    log h = log|h| + iπ·[h < 0], so Re z = W_out · log|h| and Im z = π·W_out · [h < 0].
    |h| below ``eps`` counts as ``eps``: zero inputs give finite values, and
    the gradient with respect to such an h is zero.
    """
    x = x.to(weight_out.dtype)
    hidden = x @ weight_in.mT  # (..., B, H)
    log_magnitude = torch.log(hidden.abs().clamp_min(eps))
    negative = (hidden < 0).to(x.dtype)
    return log_magnitude @ weight_out.mT, math.pi * (negative @ weight_out.mT)


def logexp(x: torch.Tensor, weight_in: torch.Tensor, weight_out: torch.Tensor, eps: float) -> torch.Tensor:
    """Re exp(z) = exp(Re z)·cos(Im z): for integer exponents the cosine is the exact sign."""
    real, imaginary = logexp_parts(x, weight_in, weight_out, eps)
    return torch.exp(real.clamp_max(LOG_OUTPUT_MAX)) * torch.cos(imaginary)


def log_least_squares(h: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """W_out (S, O, H) minimising ‖log|h| W_outᵀ − log|t|‖ per seed, and each seed's mean squared residual (S,).

    ``h`` (S, B, H) and ``target`` (S, B, O) in float64; samples where some h or
    the target is zero are left out (their logarithm is −∞).
    """
    h, target = h.double(), target.double()
    usable = (h != 0).all(-1, keepdim=True) & (target != 0).all(-1, keepdim=True)  # (S, B, 1)
    design = torch.where(usable, torch.log(h.abs()), 0.0)
    response = torch.where(usable, torch.log(target.abs()), 0.0)
    solution = torch.linalg.lstsq(design, response).solution  # (S, H, O)
    residual = (design @ solution - response).square().sum((-2, -1)) / usable.sum((-2, -1)).clamp_min(1)
    return solution.mT, torch.nan_to_num(residual, nan=torch.inf)


class LogExp(Unit):
    r"""Linear map, complex logarithm, linear map, exponential; real output.

    .. math:: y = \operatorname{Re} \exp\big(W_{out} \log(W_{in} x)\big)
              = \prod_j |h_j|^{W_{out,j}} \cdot \cos\big(\pi \textstyle\sum_j W_{out,j} [h_j < 0]\big),
              \quad h = W_{in} x

    With ``W_in`` a (scaled) permutation and integer ``W_out`` it computes
    products and quotients of its inputs, signs included: log of a negative
    number carries the phase iπ, and for an integer power the cosine is ±1.

    Zero inputs: ``|h|`` below ``eps`` is taken as ``eps`` (gradient zero
    there) and ``Re z`` is clamped at 60 before ``exp``, so forward and
    backward stay finite for any finite input.

    Capabilities (``units.capabilities``): ``LogParts`` (the log-space loss),
    ``CanonicalForm`` and ``Refit`` (the readout).

    Args:
        in_features: I, number of inputs.
        out_features: O, number of outputs.
        n_seeds: S independent copies of the weights, or None for one unit.
        hidden_features: H, width of the logarithm layer (default I).
        eps: floor of |h| inside the logarithm (1e-7, the ε of the NALM papers).
        nonnegative_in: keep ``W_in`` ≥ 0 after every step (see ``project_``).
        init_in, init_out: bounds of the uniform initialisation of each weight.
        mixing: False drops the first linear map (W_in = I, a fixed buffer), so
            y = ∏ |x_i|^{w_i} · cos(π Σ w_i [x_i < 0]); registered as "LogExp-direct".
            Trained in log space this is linear regression: convex.

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_in: (H, I) or (S, H, I), initialised U[init_in]; without
            ``mixing`` a fixed identity buffer (not saved), (I, I) or (S, I, I).
        weight_out: (O, H) or (S, O, H), initialised U[init_out].

    Examples:
        >>> unit = LogExp(2, 1)
        >>> unit.load_state_dict(LogExp.exact_solution("div"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-2.]], grad_fn=<MulBackward0>)
    """

    name: ClassVar[str] = "LogExp"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    default_lr: ClassVar[float] = 1e-2
    variants: ClassVar[dict[str, dict[str, Any]]] = {"LogExp-direct": {"mixing": False}}

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        hidden_features: int | None = None,
        eps: float = 1e-7,
        nonnegative_in: bool = False,
        init_in: tuple[float, float] = (-1.0, 1.0),
        init_out: tuple[float, float] = (-1.0, 1.0),
        mixing: bool = True,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.mixing = mixing
        self.hidden_features = (hidden_features or in_features) if mixing else in_features
        self.eps = eps
        self.nonnegative_in = nonnegative_in
        self.init_in = init_in
        self.init_out = init_out
        if mixing:
            self.weight_in = self._parameter(self.hidden_features, in_features)
        else:  # h = x: the logarithm reads the inputs themselves; one copy per seed, like every buffer
            identity = torch.eye(in_features).expand(self._shape(in_features, in_features)).clone()
            self.register_buffer("weight_in", identity, persistent=False)
        self.weight_out = self._parameter(out_features, self.hidden_features)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        if self.mixing:
            sampler.uniform_(self.weight_in, *self.init_in)
        sampler.uniform_(self.weight_out, *self.init_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return logexp(x, self.weight_in, self.weight_out, self.eps)

    @torch.no_grad()
    def canonical_(self) -> None:
        """Each row of W_in scaled to largest magnitude 1 (with mixing).

        This multiplies the output by ∏ c_j^{W_out,j}, which is 1 when W_out sums
        to 0 per row scale, as for x0/x1; elsewhere the verified readout rejects it.
        """
        if self.mixing:
            self.weight_in.div_(self.weight_in.abs().amax(-1, keepdim=True).clamp_min(1e-300))

    @torch.no_grad()
    def refit_(self, x: torch.Tensor, target: torch.Tensor) -> None:
        """Each W_in row pruned to its largest entry, scaled to 1, then W_out by least squares in log space.

        With h_j = x_k exactly, log|y| = W_out · log|h| is linear in W_out: a near
        miss such as (x0 + 0.01·x1)^1.9 / (0.02·x0 + x1)^2.1 is one least-squares
        solve away from x0/x1. The structure (which input each row reads) is the
        trained one; samples with a zero h or target are left out of the fit.
        """
        if self.mixing:
            largest = self.weight_in.abs() == self.weight_in.abs().amax(-1, keepdim=True)
            self.weight_in.copy_(largest.to(self.weight_in.dtype))
        weight_out, _ = log_least_squares(x @ self.weight_in.double().mT, target)
        self.weight_out.copy_(weight_out.to(self.weight_out.dtype))

    def log_parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Re z, Im z), for losses taken in log space; the input is checked as for forward."""
        self.check_input(x)
        return logexp_parts(x, self.weight_in, self.weight_out, self.eps)

    @torch.no_grad()
    def project_(self) -> None:
        if self.nonnegative_in and self.mixing:
            self.weight_in.clamp_(min=0.0)

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        rows = self._weights(self.weight_in, seed_index)
        powers = self._weights(self.weight_out, seed_index)
        # A row's scale contributes the constant scale**power: pull it out so that
        # the row itself reads as a clean linear form (the post found 1.005·x1).
        scales = [max((abs(w) for w in row), default=0.0) or 1.0 for row in rows]
        bases = [sum(sympy.Float(w / scale) * x for w, x in zip(row, inputs)) for row, scale in zip(rows, scales)]
        outputs = []
        for row_powers in powers:
            constant = math.prod(scale**p for scale, p in zip(scales, row_powers))
            factors = [base ** sympy.Float(p) for base, p in zip(bases, row_powers)]
            outputs.append(sympy.Float(constant) * sympy.Mul(*factors))
        return outputs

    @classmethod
    def exact_solution(
        cls, operation: str, in_features: int = 2, *, hidden_features: int | None = None, mixing: bool = True
    ) -> dict[str, torch.Tensor]:
        """W_in = I (padded with zeros), W_out = [1, ±1, 0, …]; without ``mixing`` only W_out.

        A zero power makes an unused input's factor |h|^0 = 1 (|h| is floored
        at ε, so h = 0 too), and its sign term cos(0) = 1.
        """
        hidden = (hidden_features or in_features) if mixing else in_features
        if operation not in cls.operations or in_features < 2 or hidden < 2:
            raise cls._no_solution(operation, in_features)
        weight_out = torch.zeros(1, hidden)
        weight_out[0, 0], weight_out[0, 1] = 1.0, (1.0 if operation == "mul" else -1.0)
        if not mixing:
            return {"weight_out": weight_out}
        return {"weight_in": torch.eye(hidden, in_features), "weight_out": weight_out}

    def extra_repr(self) -> str:
        mixing = "" if self.mixing else ", mixing=False"
        return f"{super().extra_repr()}, hidden_features={self.hidden_features}, eps={self.eps}{mixing}"
