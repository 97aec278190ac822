"""RatioNet: y = (u·x)·(v·x)^p, the ratio (p = −1) or the product (p = 1) of two learned sums.

Trained with the projected loss (variable projection, Golub & Pereyra): for
fixed v and p the output is linear in u, so u is the least-squares solution
of every batch and gradient descent moves v and p only. That reduced problem
is well conditioned where the joint one is not: on the ICLR task (inputs
U[1, 2], sums of 25 of 100 inputs) the joint equation-error matrix has a
condition number near 10^7, the reduced one in v about 2 (docs/moonshot.md).
"""

from __future__ import annotations

import math
from typing import ClassVar

import sympy
import torch

from arithnet.units.base import Unit
from arithnet.units.init import Sampler

#: Ridge of the least-squares solve, relative to the mean diagonal of its Gram matrix.
RIDGE = 1e-10


def power_factor(h: torch.Tensor, power: torch.Tensor, eps: float) -> torch.Tensor:
    """|h|^p·cos(π p [h < 0]) with |h| floored at ``eps``: h (..., B, O), power (..., O); exact signs for integer p."""
    power = power[..., None, :]
    return h.abs().clamp_min(eps).pow(power) * torch.cos(math.pi * power * (h < 0).to(h.dtype))


def ratio_net(
    x: torch.Tensor, weight_num: torch.Tensor, weight_den: torch.Tensor, power: torch.Tensor, eps: float
) -> torch.Tensor:
    """(x·uᵀ)·|x·vᵀ|^p: (..., B, I) with (..., O, I), (..., O, I), (..., O) to (..., B, O)."""
    x = x.to(weight_den.dtype)
    return (x @ weight_num.mT) * power_factor(x @ weight_den.mT, power, eps)


def solve_numerator(x: torch.Tensor, factor: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """u (N, I) minimising Σ_b (factor_b·(u·x_b) − t_b)² per run, in float64; x (N, B, I), factor and target (N, B)."""
    design = x.double() * factor.double()[..., None]
    gram = design.mT @ design
    ridge = RIDGE * gram.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1e-300)
    gram = gram + ridge[:, None, None] * torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    return torch.linalg.solve(gram, design.mT @ target.double()[..., None])[..., 0]


class RatioNet(Unit):
    r"""Two sums of the inputs and a power: :math:`y = (u \cdot x)\,|v \cdot x|^{p} \cos(\pi p [v \cdot x < 0])`.

    p = −1 gives a ratio of two sums, p = 1 their product, p = 0 one sum.
    ``projected(x, target)`` solves u for the batch in closed form (float64
    least squares) and uses that solution as u's value; by the envelope
    theorem the gradient of the loss at fixed u is then the gradient of the
    reduced problem in v and p, so nothing is differentiated through the
    solve. ``project_`` keeps the solution as ``weight_num``, clamps p, and
    rescales each row of ``weight_den`` to largest magnitude 1 (u takes the
    scale: the function does not change). Trained with another loss (mse), u
    is a weight like any other.

    The benchmark trains it with one more rule, which is not the unit's maths:
    after every step, where every weight of u, v and p lies near an integer,
    all three are set to those integers, so that float32 weights reach the
    ε-perfect thresholds (``arithnet.training.rules.RatioSnap``, its option
    ``snap_tolerance``).

    Capabilities (``units.capabilities``): ``Projected`` (the projected loss).

    Args:
        in_features: I. out_features: O (the projected loss needs O = 1). n_seeds: S copies, or None.
        init_den: bounds of the uniform initialisation of v (the sum inside the power).
        max_power: |p| is clamped to this after every step.
        eps: floor of |v·x| (1e-7, the ε of the NALM papers).

    Shape:
        input (B, I) or (S, B, I); output (B, O) or (S, B, O).

    Attributes:
        weight_num: u, (O, I) or (S, O, I), initialised to 0 (the projected loss solves it).
        weight_den: v, (O, I) or (S, O, I), initialised U[init_den].
        power: p, (O,) or (S, O), initialised to 0: the unit starts as one linear sum.
        solved: the last batch's u (not saved), NaN before the first projected step.

    Examples:
        >>> unit = RatioNet(2, 1)
        >>> unit.load_state_dict(RatioNet.exact_solution("div"))
        <All keys matched successfully>
        >>> unit(torch.tensor([[-6.0, 3.0]]))
        tensor([[-2.]], grad_fn=<MulBackward0>)
    """

    name: ClassVar[str] = "RatioNet"
    operations: ClassVar[frozenset[str]] = frozenset({"mul", "div"})
    default_lr: ClassVar[float] = 1e-2

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_seeds: int | None = None,
        *,
        init_den: tuple[float, float] = (0.0, 1.0),
        max_power: float = 4.0,
        eps: float = 1e-7,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        self.init_den, self.max_power, self.eps = init_den, max_power, eps
        self.weight_num = self._parameter(out_features, in_features)
        self.weight_den = self._parameter(out_features, in_features)
        self.power = self._parameter(out_features)
        self.register_buffer("solved", torch.full(self._shape(out_features, in_features), math.nan), persistent=False)
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        sampler = sampler or Sampler()
        sampler.constant_(self.weight_num, 0.0)
        sampler.uniform_(self.weight_den, *self.init_den)
        sampler.constant_(self.power, 0.0)
        self.solved.fill_(math.nan)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ratio_net(x, self.weight_num, self.weight_den, self.power, self.eps)

    def projected(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The output (S, B, 1) with u solved for ``target`` (S, B); the solution is kept in ``solved``."""
        self.check_input(x)
        if self.out_features != 1 or self.n_seeds is None:
            raise ValueError("RatioNet's projected loss needs out_features=1 and n_seeds set")
        x = x.to(self.weight_den.dtype).expand(self.n_seeds, *x.shape[-2:])
        factor = power_factor(x @ self.weight_den.mT, self.power, self.eps)  # (S, B, 1)
        solved = solve_numerator(x, factor[..., 0].detach(), target).to(x.dtype)[:, None, :]
        self.solved.copy_(solved)
        weight_num = self.weight_num + (solved - self.weight_num).detach()  # u's value, u's gradient (≈ 0)
        return (x @ weight_num.mT) * factor

    @torch.no_grad()
    def project_(self) -> None:
        self.weight_num.copy_(torch.where(self.solved.isnan(), self.weight_num, self.solved))
        self.power.clamp_(-self.max_power, self.max_power)
        # (u·x)·|v·x / c|^p = c^−p·(u·x)·|v·x|^p: u times c^p keeps the function.
        scale = self.weight_den.abs().amax(-1).clamp_min(1e-30)
        self.weight_den.div_(scale[..., None])
        self.weight_num.mul_(scale.pow(self.power)[..., None])

    def sparsity_weights(self) -> list[torch.Tensor]:
        return [self.weight_num, self.weight_den]

    def expression(self, inputs: list[sympy.Symbol], seed_index: int = 0) -> list[sympy.Expr]:
        numerators = self._weights(self.weight_num, seed_index)
        denominators = self._weights(self.weight_den, seed_index)
        powers = self.power.detach() if self.n_seeds is None else self.power.detach()[seed_index]
        outputs = []
        for u, v, p in zip(numerators, denominators, powers.double().tolist()):
            numerator = sum((sympy.Float(w) * x for w, x in zip(u, inputs)), sympy.Integer(0))
            inside = sum((sympy.Float(w) * x for w, x in zip(v, inputs)), sympy.Integer(0))
            outputs.append(numerator * inside ** sympy.Float(p))
        return outputs

    @classmethod
    def exact_solution(cls, operation: str, in_features: int = 2) -> dict[str, torch.Tensor]:
        """u = x0, v = x1, p = −1 (÷) or 1 (×)."""
        if operation not in cls.operations or in_features < 2:
            raise cls._no_solution(operation, in_features)
        weight_num, weight_den = torch.zeros(1, in_features), torch.zeros(1, in_features)
        weight_num[0, 0], weight_den[0, 1] = 1.0, 1.0
        power = torch.tensor([-1.0 if operation == "div" else 1.0])
        return {"weight_num": weight_num, "weight_den": weight_den, "power": power}

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, init_den={self.init_den}, max_power={self.max_power}, eps={self.eps}"
