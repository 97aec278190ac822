"""Adam (Kingma & Ba, 2015) for many independent runs, usable inside a compiled step.

``torch.optim.Adam`` would do the same arithmetic, but constructing it
imports torch's compiler stack (about 1.7 s here), longer than a whole
100-seed ÷ run; and its step count is one Python number per parameter,
which a compiled step would bake in as a constant. Every weight element has
its own moments, so the runs stay independent. Shape letters: N runs.
"""

from __future__ import annotations

import torch


class Adam:
    """Moments for ``parameters`` (each (N, ...)); ``update_`` applies one step to them in place."""

    def __init__(self, parameters, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.parameters = list(parameters)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.first = [torch.zeros_like(p) for p in self.parameters]
        self.second = [torch.zeros_like(p) for p in self.parameters]

    @torch.no_grad()
    def update_(self, gradients, lr: float | torch.Tensor, step: int | torch.Tensor) -> None:
        """One Adam step number ``step`` (1, 2, ...) with learning rate ``lr``.

        ``lr`` and ``step`` are Python numbers in eager mode and 0-d tensors in
        a compiled step, where a number would be compiled in as a constant.
        """
        correction1 = 1.0 - self.beta1**step
        correction2 = 1.0 - self.beta2**step
        for p, g, m, v in zip(self.parameters, gradients, self.first, self.second):
            m.lerp_(g, 1.0 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
            denominator = (v / correction2).sqrt_().add_(self.eps)
            if isinstance(lr, torch.Tensor):
                p.sub_(m / denominator * (lr / correction1).to(p.dtype))
            else:
                p.addcdiv_(m, denominator, value=-lr / correction1)

    def select(self, index: torch.Tensor, parameters) -> Adam:
        """An Adam for runs ``index`` of these, moments kept; ``parameters`` are the new, smaller ones."""
        chosen = Adam(parameters, (self.beta1, self.beta2), self.eps)
        chosen.first = [m[index].clone() for m in self.first]
        chosen.second = [v[index].clone() for v in self.second]
        return chosen

    @torch.no_grad()
    def reset_(self, mask: torch.Tensor) -> None:
        """Forget the moments of the runs in ``mask`` (N,), after a restart.

        The step count is shared, so a restarted run keeps the bias correction
        of the others: its first updates are slightly smaller.
        """
        for m, v in zip(self.first, self.second):
            shape = (len(mask),) + (1,) * (m.dim() - 1)
            m.masked_fill_(mask.reshape(shape), 0.0)
            v.masked_fill_(mask.reshape(shape), 0.0)
