"""LawNet: a power layer of K monomials, two sum layers, their ratio P/Q, and a power y = (P/Q)^(1/q).

The monomials are LogExp-direct's products, one per row of the exponent
matrix; the sums are linear layers whose weights are solved in closed form
for the current monomials (variable projection), so gradient descent only
has to move the exponents. This is the torch side of the ratio class, for
training; the readout computes the same functions in float64 numpy
(``laws.readout.algebra``), and a test checks that the two agree.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch

from arithnet.laws.config import LATTICE_POWERS
from arithnet.schedules import geometric_ramp
from arithnet.units.base import Unit
from arithnet.units.init import Sampler

#: log|x| of an exact zero, so that 0**w is 0 for w > 0 and 1 for w = 0 in training. Only zeros: a non-zero
#: value keeps its own logarithm, however small (the columns are scaled to order 1 before training).
ZERO_LOG = math.log(1e-30)
#: exp() of at most this: monomials stay finite in float64 whatever the exponents.
LOG_MONOMIAL_MAX = 60.0
#: Ridge on the normalised least-squares problem: solvable when monomials coincide.
RIDGE = 1e-12


def monomials(x: torch.Tensor, exponent: torch.Tensor) -> torch.Tensor:
    """∏ᵢ |xᵢ|^wₖᵢ · cos(π Σᵢ wₖᵢ [xᵢ < 0]): (B, I) or (S, B, I), and (S, K, I), give (S, B, K).

    The cosine is the sign the complex logarithm gives: (−1)^w for an integer
    w, and 0 for a half-integer power of a negative number. One (B, I) batch
    shared by every run is one matrix product with all runs' exponents.
    """
    n_runs, n_terms, n_inputs = exponent.shape
    log_abs = torch.where(x == 0, ZERO_LOG, torch.log(x.abs()))
    if x.dim() == 2:
        log_power = (
            (log_abs @ exponent.reshape(-1, n_inputs).mT).reshape(-1, n_runs, n_terms).transpose(0, 1).contiguous()
        )
    else:
        log_power = log_abs @ exponent.mT
    magnitude = torch.exp(log_power.clamp_max(LOG_MONOMIAL_MAX))
    if not bool((x < 0).any()):  # positive data: every sign term is cos(0) = 1
        return magnitude
    negative = (x < 0).to(x.dtype)
    if x.dim() == 2:
        parity = (negative @ exponent.reshape(-1, n_inputs).mT).reshape(-1, n_runs, n_terms).transpose(0, 1)
    else:
        parity = negative @ exponent.mT
    return magnitude * torch.cos(math.pi * parity)


def signed_power(y: torch.Tensor, power: torch.Tensor | float) -> torch.Tensor:
    """sign(y)·|y|^power: a power that keeps the sign, so y^(−1) of a negative y stays negative."""
    return torch.sign(y) * y.abs() ** power


def transformed_target(y: torch.Tensor, power: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """t = y^q (S, B) for each run's power q (S,), and row weights that make a fit of t behave like one of y.

    An error δy becomes δt ≈ q·|y|^(q−1)·δy, so rows are weighted by |y|^(1−q):
    without it, fitting y^(−2) lets the rows with the smallest y dominate
    the fit, and on noisy data their amplified noise hides the law. A zero
    y under a negative power (t = ∞) gets t = 0 and weight 0: it is left out.
    """
    q = power[:, None]
    floor = 1e-6 * y.square().mean(-1, keepdim=True).sqrt()
    left_out = (y == 0) & (q < 0)
    t = torch.where(left_out, 0.0, signed_power(torch.where(left_out, 1.0, y), q))
    weight = torch.where(left_out, 0.0, y.abs().clamp_min(floor) ** (1.0 - q))
    return t, weight


def ratio_design(m: torch.Tensor, role: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The linear system of t·Q = P with Q = 1 + Σ bₖ mₖ: column k is mₖ (numerator) or −t·mₖ (denominator).

    ``role`` (S, K) is +1 for a numerator monomial, −1 for a denominator one
    and 0 for an unused one, whose column is zero (its coefficient stays 0).
    """
    numerator, denominator = (role > 0).to(m.dtype), (role < 0).to(m.dtype)
    return m * (numerator[:, None] - target[..., None] * denominator[:, None])


def solve_coefficients(m: torch.Tensor, role: torch.Tensor, target: torch.Tensor, weight: torch.Tensor):
    """Coefficients (S, K) minimising ‖weight·(P − t·Q)‖² for each run, differentiable in ``m``.

    Columns are scaled to unit RMS before the ridge solve: monomials of
    very different sizes would otherwise make the normal equations singular.
    """
    design = ratio_design(m, role, target) * weight[..., None]
    target = target * weight
    # Unused (all-zero) columns get scale 1; the clamp keeps sqrt's gradient at 0 finite.
    square = design.square().mean(-2)
    scale = torch.where(square > 0, square.clamp_min(1e-300).sqrt(), 1.0)
    normalised = design / scale[:, None]
    gram = normalised.mT @ normalised
    gram = gram + RIDGE * torch.eye(gram.shape[-1], dtype=gram.dtype, device=gram.device)
    solution = torch.linalg.solve(gram, (normalised.mT @ target[..., None]))[..., 0]
    return solution / scale


def ratio(m: torch.Tensor, coefficient: torch.Tensor, role: torch.Tensor) -> torch.Tensor:
    """P/Q = (Σ aₖ mₖ)/(1 + Σ bₖ mₖ), a numerator and b denominator coefficients by ``role``: (S, B)."""
    # Both sums as one batched product: (S, B, K) @ (S, K, 2).
    split = torch.stack([coefficient * (role > 0), coefficient * (role < 0)], -1).to(m.dtype)
    sums = m @ split
    return sums[..., 0] / (1.0 + sums[..., 1])


def law(m: torch.Tensor, coefficient: torch.Tensor, role: torch.Tensor, power: torch.Tensor) -> torch.Tensor:
    """y = (P/Q)^(1/q), sign kept: (S, B, 1)."""
    return signed_power(ratio(m, coefficient, role), 1.0 / power[:, None])[..., None]


class LawNet(Unit):
    r"""K monomials, the ratio of two sums of them, and a power: y^q = (Σ aₖ mₖ)/(1 + Σ bⱼ mⱼ).

    .. math:: m_k = \prod_i |x_i|^{W_{ki}} \cos\big(\pi \textstyle\sum_i W_{ki}[x_i<0]\big)

    Each run's ``role`` says which monomials feed the numerator (+1), the
    denominator (−1) or nothing (0): a sum of monomials is a ratio with an
    empty denominator, so one program trains sums and ratios side by side.
    The constant 1 in the denominator fixes the ratio's scale (P/Q = cP/cQ)
    and its monomial gauge (P·g/Q·g): without it the exponents have a flat
    direction and never settle on a lattice point.

    ``projected(x, target)`` solves the coefficients for the batch and
    returns the prediction (the "projected" loss of the engine); the solved
    coefficients are kept in ``coefficient`` for ``forward``.

    Args:
        in_features: I, the table's input columns.
        out_features: must be 1.
        n_seeds: S runs.
        n_terms: K monomials per run.
        density: the chance that an exponent starts on the lattice rather than at 0.
        jitter: the standard deviation of the noise added to the initial exponents.
        max_exponent: exponents are clamped to ±max_exponent after each step.
        lattice_pull: (start, end, low, high): from step ``start`` the regularizer
            λ(t)·Σ sin²(2π w) pulls each exponent to the nearest half-integer, λ growing
            geometrically from ``low`` at ``start`` to ``high`` at ``end``; None for none.

    Shape:
        Input (S, B, I) or (B, I); output (S, B, 1).

    Attributes:
        exponent: (S, K, I), trained.
        role: (S, K) buffer, +1, −1 or 0.
        pulled: (S,) buffer, 1 for the runs the lattice pull acts on, 0 for the others.
        power: (S,) buffer, q: the ratio is y^q (a power of a sum for q ≠ 1).
        coefficient: (S, K) buffer: each monomial's weight in its sum.
    """

    operations: ClassVar[frozenset[str]] = frozenset()
    default_lr: ClassVar[float] = 0.05

    def __init__(
        self,
        in_features: int,
        out_features: int = 1,
        n_seeds: int | None = None,
        *,
        n_terms: int = 2,
        density: float = 0.35,
        jitter: float = 0.1,
        max_exponent: float = 8.0,
        lattice_pull: tuple[float, float, float, float] | None = None,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if out_features != 1 or n_seeds is None:
            raise ValueError("LawNet computes one output per run: out_features=1 and n_seeds set")
        self.n_terms, self.density, self.jitter, self.max_exponent = n_terms, density, jitter, max_exponent
        self.lattice_pull = lattice_pull
        self.exponent = self._parameter(n_terms, in_features)
        self.register_buffer("role", torch.ones(self._shape(n_terms)))
        self.register_buffer("power", torch.ones(self._shape()))
        self.register_buffer("pulled", torch.ones(self._shape()))
        self.register_buffer("coefficient", torch.zeros(self._shape(n_terms)))
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        """Sparse lattice starts: each exponent is 0, or (with chance ``density``) a lattice value, plus jitter.

        The lattice values are ``laws.config.LATTICE_POWERS``, the powers physics laws use.
        """
        sampler = sampler or Sampler()
        draws = torch.empty_like(self.exponent)
        lattice = torch.tensor(LATTICE_POWERS, dtype=draws.dtype)
        sampler.uniform_(draws, 0.0, 1.0)
        on = draws < self.density
        sampler.uniform_(draws, 0.0, len(LATTICE_POWERS) - 1e-9)
        start = torch.where(on, lattice[draws.long()], torch.zeros_like(draws))
        sampler.normal_(draws, 0.0, self.jitter)
        with torch.no_grad():
            self.exponent.copy_(start + draws)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return law(monomials(x.to(self.exponent.dtype), self.exponent), self.coefficient, self.role, self.power)

    def projected(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The prediction (S, B, 1) with coefficients solved for ``target`` (S, B); they are kept.

        The sums are solved for t = y^q, weighted so that the fit is one of y.
        ``x`` may be (B, I), one batch for every run: then the monomials are one matrix product.
        """
        self.check_input(x)
        m = monomials(x.to(self.exponent.dtype), self.exponent)
        t, weight = self._transformed(target.to(m.dtype))
        coefficient = solve_coefficients(m, self.role, t, weight)
        self.coefficient.copy_(coefficient.detach())
        return law(m, coefficient, self.role, self.power)

    def regularization(self, step: int | torch.Tensor) -> torch.Tensor:
        """λ(step)·Σ sin²(2π w): zero on the half-integer lattice, so a flat valley of exact-looking fits
        (1/(γ − 1) ≈ a·γ^1.04 + b·γ^−0.14) is pulled to its lattice point (γ^1, γ^0)."""
        if self.lattice_pull is None:
            return super().regularization(step)
        start, end, low, high = self.lattice_pull
        weight = self._like_parameters(geometric_ramp(step, low, high, start, end))
        return weight * self.pulled * torch.sin(2 * math.pi * self.exponent).square().sum((-2, -1))

    @torch.no_grad()
    def _transformed(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """t = y^q and the rows' weights (S, B); for one row of targets shared by every run (a view with stride 0),
        computed once per distinct power and gathered: a search has a few powers and hundreds of runs."""
        if y.dim() < 2 or y.stride(0) != 0:
            return transformed_target(y, self.power)
        powers, index = torch.unique(self.power, return_inverse=True)
        t, weight = transformed_target(y[:1].expand(len(powers), -1), powers)
        return t[index], weight[index]

    @torch.no_grad()
    def project_(self) -> None:
        self.exponent.clamp_(-self.max_exponent, self.max_exponent)  # NaN stays: the search's NaNReset restarts it

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_terms={self.n_terms}"
