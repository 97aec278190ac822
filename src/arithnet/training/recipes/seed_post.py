"""The seed post's two procedures for ÷, reproduced faithfully, S seeds at once.

Both train the 2-2-1 LogExp network by single-sample SGD with the post's own
hand-written backpropagation (not autograd), so that every quirk is kept:

- **seed-v1**: inputs U(−10, 10), W_in and W_out ~ U(−1, 1), 1,000 steps at
  lr 0.001, hidden activation log(h²) (real), no safeguards. Diverges.
- **seed-v2**: inputs U(0, 10) drawn again until |a/b| ≤ log(log 700) ≈ 1.88,
  W_out = 0 at the start, complex logarithm (phase iπ for h < 0), 200,000 steps
  at lr 0.1, every error term and gradient clipped to ±700 then passed through
  nan_to_num, and each update divided by the power of ten of its integer part
  (only the "mantissa" of a step of 10 or more is used). Converges on some seeds.

The re-drawing of v2's inputs is vectorised: 32 candidate pairs are drawn per
step and the first accepted one is used, which has the same distribution as
drawing again until one is accepted (each pair is accepted with probability
0.73, so all 32 fail with probability below 1e-18; the last one is then used).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from arithnet import random as counter_random
from arithnet.data import Range, sample_uniform
from arithnet.engine import EngineConfig, Fit, Problem, ProgressCallback
from arithnet.engine import fit as engine_fit
from arithnet.operations import Operation
from arithnet.training.recipes.base import Recipe
from arithnet.units import LogExp, Sampler

CLIP = 700.0  # the post's clip value, just under log(float64 max) ≈ 709.8
RATIO_LIMIT = math.log(math.log(CLIP))  # the post's input filter, ≈ 1.8766
N_CANDIDATES = 32
CHUNK = 256  # steps of inputs drawn at once


def _safe(value: torch.Tensor) -> torch.Tensor:
    """The post's np.clip(·, −700, 700) followed by np.nan_to_num."""
    return torch.nan_to_num(value.clamp(-CLIP, CLIP))


def _mantissa(update: torch.Tensor) -> torch.Tensor:
    """The post's update trick: divide by 10**trunc(log10|u|) when that is ≥ 1."""
    exponent = torch.where(update != 0, torch.trunc(torch.log10(update.abs())), torch.zeros_like(update))
    return update / torch.pow(10.0, exponent.clamp(0.0, CLIP))


def _step_v1(w_in: torch.Tensor, w_out: torch.Tensor, x: torch.Tensor, lr: float) -> torch.Tensor:
    """The first program's update, in place; x (S, 2). Returns the squared error (S,)."""
    target = x[:, 0] / x[:, 1]
    hidden = (w_in @ x[..., None])[..., 0]  # (S, 2)
    activation = torch.log(hidden * hidden)
    output = torch.exp((w_out[:, 0] * activation).sum(-1))
    error = output - target
    delta_out = output * error  # (S,)
    delta_in = (2.0 / hidden) * w_out[:, 0] * delta_out[:, None]
    w_in -= lr * delta_in[:, :, None] * x[:, None, :]
    w_out -= lr * delta_out[:, None, None] * activation[:, None, :]
    return error.square()


def _step_v2(w_in: torch.Tensor, w_out: torch.Tensor, x: torch.Tensor, lr: float) -> torch.Tensor:
    """The second program's update, in place; x (S, 2). Returns the squared error (S,)."""
    target = x[:, 0] / x[:, 1]
    hidden = (w_in @ x[..., None])[..., 0]  # (S, 2)
    log_magnitude = torch.log(hidden.abs())  # real part of the complex log
    phase = math.pi * (hidden < 0).to(hidden.dtype)  # its imaginary part
    z_real = (w_out[:, 0] * log_magnitude).sum(-1)
    z_imaginary = (w_out[:, 0] * phase).sum(-1)
    output = torch.exp(z_real) * torch.cos(z_imaginary)  # Re exp(z)
    error = _safe(output - target)
    delta_out = _safe(output * error)
    delta_in = _safe(w_out[:, 0] * delta_out[:, None] / hidden)
    grad_in = _safe(delta_in[:, :, None] * x[:, None, :])
    grad_out = _safe(delta_out[:, None, None] * log_magnitude[:, None, :])  # Re(δ·log h)
    w_in -= lr * _mantissa(grad_in)
    w_out -= lr * _mantissa(grad_out)
    return (output - target).square()


@dataclass(frozen=True)
class SeedPostSettings:
    """The post's settings: fixed by the post, saved so that a result says what ran."""

    version: int
    steps: int
    lr: float
    dtype: str = "float64"


class SeedPostStep:
    """The post's hand-written single-sample SGD step, an engine ``Step`` (engine.step).

    Called with x (S, 1, 2) and targets (S, 1); changes the unit's weights in
    place. Plain SGD keeps no moments, and the post trains one start per seed,
    so it neither selects runs nor forgets moments.
    """

    def __init__(self, unit: LogExp, version: int, lr: float) -> None:
        self.unit, self.version, self.lr = unit, version, lr

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, target: torch.Tensor, step: int) -> torch.Tensor:
        rule = _step_v1 if self.version == 1 else _step_v2
        return rule(self.unit.weight_in, self.unit.weight_out, x[:, 0], self.lr)

    def finish(self) -> None:
        """Nothing to undo: the post's updates never touch autograd."""


class SeedPostRecipe(Recipe):
    operations = frozenset({"div"})
    settings_type = SeedPostSettings

    def __init__(self, version: int) -> None:
        if version not in (1, 2):
            raise ValueError("the seed post has versions 1 and 2")
        self.version = version
        self.name = f"seed-v{version}"
        self.lr = 0.001 if version == 1 else 0.1
        self.default_steps = 1_000 if version == 1 else 200_000
        self.summary = (
            "the post's first program: SGD on log(h²), lr 0.001, 1,000 steps (diverges)"
            if version == 1
            else "the post's second program: clipped complex SGD, lr 0.1, 200,000 steps"
        )

    def default_range(self, operation: Operation) -> Range:
        return Range(-10.0, 10.0) if self.version == 1 else Range(0.0, 10.0)

    def _inputs(self, keys: torch.Tensor, chunk: int, train_range: Range) -> torch.Tensor:
        """Inputs (S, CHUNK, 2) for CHUNK consecutive steps."""
        if self.version == 1:
            u = counter_random.uniform(keys, counter_random.Stream.SEED_POST_INPUTS, chunk, (CHUNK, 2))
            return sample_uniform(u, train_range)
        u = counter_random.uniform(keys, counter_random.Stream.SEED_POST_INPUTS, chunk, (CHUNK, N_CANDIDATES, 2))
        pairs = sample_uniform(u, train_range)
        accepted = (pairs[..., 0] / pairs[..., 1]).abs() <= RATIO_LIMIT
        accepted[..., -1] = True
        first = accepted.to(torch.int8).argmax(-1)  # (S, CHUNK)
        return torch.take_along_dim(pairs, first[..., None, None], dim=2)[:, :, 0]

    def settings_for(self, operation: Operation) -> SeedPostSettings:
        return SeedPostSettings(self.version, self.default_steps, self.lr)

    def _initialize(self, unit: LogExp, sampler: Sampler) -> None:
        unit.reset_parameters(sampler)
        if self.version == 2:
            torch.nn.init.zeros_(unit.weight_out)

    def check_settings(self, settings: SeedPostSettings) -> None:
        super().check_settings(settings)
        if settings != self.settings_for(None):
            raise ValueError(f"recipe {self.name!r} is the post's program: its settings cannot be changed")

    def fit(self, config, keys: torch.Tensor, progress: ProgressCallback | None = None) -> Fit:
        cache: dict[int, torch.Tensor] = {}

        def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            chunk, offset = divmod(step - 1, CHUNK)
            if chunk not in cache:
                cache.clear()
                cache[chunk] = self._inputs(keys, chunk, config.train_range).to(torch.float64)
            x = cache[chunk][:, offset, None]  # (S, 1, 2)
            return x, x[..., 0] / x[..., 1]

        problem = Problem(keys, lambda n: LogExp(2, 1, n, eps=0.0).double(), batch, initialize=self._initialize)
        settings = EngineConfig(steps=config.steps, lr=self.lr, n_snapshots=config.n_snapshots, progress_every=CHUNK)
        return engine_fit(
            problem, settings, progress, make_step=lambda unit, _: SeedPostStep(unit, self.version, self.lr)
        )
