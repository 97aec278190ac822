"""FactorNet: a law as a sum of terms, each a solved numerator times powers of trained sums.

    y = Σₖ Nₖ(x) · ∏ⱼ Sₖⱼ(x)^pₖⱼ,   Nₖ = Σₗ aₖₗ φₗ(x),   Sₖⱼ = Σₗ bₖⱼₗ φₗ(x)

φ is a fixed library of monomials (degree ≤ 2 of the inputs, 1 included), so
each sum is a linear layer over it and each term's product of powers is an NPU
(a power layer) over the sums: arithmetic units stacked. The powers pₖⱼ are
fixed per run on the lattice (1, −1, ½, −½, 3/2, −3/2, 2, −2; 0 for a factor
a term does not have): a stage trains every combination it lists side by side,
so that descent never wanders along the flat valleys of free powers (with 1%
noise, (x+1)(y+2)/(x+y) is matched as well by powers 0.83, 0.71 and −0.69).

The numerators enter linearly: for the current sums they are solved in closed
form (variable projection, Golub & Pereyra), so descent moves only the sums'
coefficients b. Each sum is divided by its RMS over the batch: a sum's scale
is the numerator's to carry. The sign of a sum to an integer power is kept;
to a half-integer power a sum is taken by magnitude (the readout keeps only
laws whose sums have one sign there).

Shape letters: S runs, B rows, I inputs, K terms, J factors per term, L library monomials.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch

from arithnet.laws.model.law_net import ZERO_LOG
from arithnet.units.base import Unit
from arithnet.units.init import Sampler

#: Ridge of the numerators' normal equations on unit-RMS columns: solvable when library columns coincide.
RIDGE = 1e-10
#: |S| below this share of its RMS is taken at this share in log|S| (a sum crossing zero, to an integer power).
SUM_FLOOR = 1e-9


def library_values(x: torch.Tensor, exponents: torch.Tensor) -> torch.Tensor:
    """φₗ(x) (B, L) for library exponents (L, I) on rows (B, I): integer exponents, so exact signs; 0^0 = 1."""
    log_abs = torch.where(x == 0, ZERO_LOG, torch.log(x.abs()))
    magnitude = torch.exp(log_abs @ exponents.mT)
    parity = (x < 0).to(x.dtype) @ exponents.mT
    return magnitude * torch.cos(math.pi * parity)


def factors(phi: torch.Tensor, weights: torch.Tensor, powers: torch.Tensor) -> torch.Tensor:
    """∏ⱼ Sⱼ^pⱼ per term (S, B, K): sums Sₖⱼ = φ·bₖⱼ scaled to unit RMS, weights (S, K, J, L), powers (S, K, J)."""
    n_runs, n_terms, n_factors, n_library = weights.shape
    # One matrix product for every run's sums: (B, L) @ (L, S·K·J), not a batch of S small ones.
    sums = (phi @ weights.reshape(-1, n_library).mT).reshape(-1, n_runs, n_terms, n_factors).transpose(0, 1)
    sums = sums / sums.square().mean(1, keepdim=True).clamp_min(1e-300).sqrt()
    log_abs = torch.log(sums.abs().clamp_min(SUM_FLOOR))
    magnitude = torch.exp((log_abs * powers[:, None]).sum(-1))
    integer = powers == torch.round(powers)
    sign_power = torch.where(integer, powers, 0.0)[:, None]  # half-integer powers read |S|
    sign = torch.cos(math.pi * ((sums < 0).to(sums.dtype) * sign_power).sum(-1))
    return magnitude * sign


def numerator_design(phi: torch.Tensor, products: torch.Tensor, numerator: torch.Tensor) -> torch.Tensor:
    """Columns φₗ·∏ₖ (S, B, K·L): each term's numerator library times its factors; ``numerator`` (S, K, L) masks."""
    design = phi[None, :, None, :] * products[..., None] * numerator[:, None]
    return design.flatten(-2)


def solve_numerators(design: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Coefficients (S, K·L) minimising the relative squared error of y, differentiable in the design."""
    scale = design.square().mean(-2)
    scale = torch.where(scale > 0, scale.clamp_min(1e-300).sqrt(), 1.0)
    normalised = design / scale[:, None]
    gram = normalised.mT @ normalised + RIDGE * torch.eye(design.shape[-1], dtype=design.dtype)
    solution = torch.linalg.solve(gram, normalised.mT @ target[..., None])[..., 0]
    return solution / scale


class FactorNet(Unit):
    r"""Sums of terms, each a numerator over a monomial library (solved) times powers of library sums (trained).

    .. math:: y = \sum_k \Big(\sum_l a_{kl}\,\phi_l(x)\Big) \prod_j \Big(\sum_l b_{kjl}\,\phi_l(x)\Big)^{p_{kj}}

    Args:
        in_features: I, the table's columns. out_features: must be 1. n_seeds: S runs.
        library: (L, I) integer exponents of the monomials φ, by degree (``readout.library.monomial_library``).
        n_sum_library: the sums use the first this many of them (the numerators all): a stage whose sums are
            of degree 1 does not pay for the products of columns its numerators use.
        n_terms, n_factors: K terms of at most J factors each.
        density: the library monomials each sum starts with (the others start near 0).

    Buffers set by the stage that trains it (``search.factored``):
        power: (S, K, J) the factors' lattice powers, 0 for a factor a term does not have.
        numerator: (S, K, L) 1 for the library monomials a term's numerator may use, 0 for a term not used.
        allowed: (S, K, J, L) 1 for the library monomials a sum may use (a sum of degree 1 uses 1 and the columns).

    Attributes:
        weight: (S, K, J, L), the sums' coefficients b, trained.
        coefficient: (S, K·L) the numerators' coefficients a, solved at every step (kept for ``forward``).
    """

    operations: ClassVar[frozenset[str]] = frozenset()
    default_lr: ClassVar[float] = 0.05

    def __init__(
        self,
        in_features: int,
        out_features: int = 1,
        n_seeds: int | None = None,
        *,
        library: torch.Tensor,
        n_terms: int = 1,
        n_factors: int = 2,
        density: int = 2,
        n_sum_library: int | None = None,
    ) -> None:
        super().__init__(in_features, out_features, n_seeds)
        if out_features != 1 or n_seeds is None:
            raise ValueError("FactorNet computes one output per run: out_features=1 and n_seeds set")
        self.n_terms, self.n_factors, self.density = n_terms, n_factors, density
        # Shared by every run, so not a buffer: selecting runs (Unit.select) indexes buffers by run.
        self.library = library.to(torch.float64)
        n_library = library.shape[0]
        self.n_sum_library = n_sum_library or n_library
        self.weight = self._parameter(n_terms, n_factors, self.n_sum_library)
        self.register_buffer("power", torch.zeros(self._shape(n_terms, n_factors)))
        self.register_buffer("numerator", torch.ones(self._shape(n_terms, n_library)))
        self.register_buffer("allowed", torch.ones(self._shape(n_terms, n_factors, self.n_sum_library)))
        self.register_buffer("coefficient", torch.zeros(self._shape(n_terms * n_library)))
        self.reset_parameters()

    def reset_parameters(self, sampler: Sampler | None = None) -> None:
        """Sparse starts: each sum is ``density`` library monomials with weights of either sign, the rest near 0."""
        sampler = sampler or Sampler()
        uniform = torch.empty_like(self.weight)
        sampler.uniform_(uniform, 0.0, 1.0)
        chosen = uniform < self.density / self.weight.shape[-1]
        magnitude = torch.empty_like(self.weight)
        sampler.uniform_(magnitude, 0.5, 1.5)
        sign = torch.empty_like(self.weight)
        sampler.uniform_(sign, 0.0, 1.0)
        noise = torch.empty_like(self.weight)
        sampler.normal_(noise, 0.0, 0.01)
        with torch.no_grad():
            self.weight.copy_(torch.where(chosen, magnitude * torch.where(sign < 0.8, 1.0, -1.0), 0.0) + noise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._design(x) @ self.coefficient[..., None]

    def _design(self, x: torch.Tensor) -> torch.Tensor:
        phi = library_values(x.to(self.weight.dtype), self.library.to(self.weight.dtype))
        products = factors(phi[:, : self.n_sum_library], self.weight * self.allowed, self.power)
        return numerator_design(phi, products, self.numerator)

    def projected(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The prediction (S, B, 1) with the numerators solved for ``target`` (S, B); they are kept."""
        self.check_input(x)
        design = self._design(x)
        coefficient = solve_numerators(design, target.to(design.dtype))
        with torch.no_grad():
            self.coefficient.copy_(coefficient)
        return design @ coefficient[..., None]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_terms={self.n_terms}, n_factors={self.n_factors}"
