"""A minimal Adam (Kingma & Ba, 2015) for the multi-seed trainer.

``torch.optim.Adam`` would do the same arithmetic, but constructing it
imports torch's compiler stack (about 1.7 s here), longer than a whole
100-seed ÷ run. Every weight element has its own moments, so the S seeds
stay independent.
"""

from __future__ import annotations

import torch


class Adam:
    def __init__(
        self, parameters, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.parameters = [p for p in parameters]
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.n_steps = 0
        self.first = [torch.zeros_like(p) for p in self.parameters]
        self.second = [torch.zeros_like(p) for p in self.parameters]

    def select(self, index: torch.Tensor, parameters) -> Adam:
        """An Adam for networks ``index`` of these, moments and step count kept.

        ``parameters`` are the new, smaller parameters (seed dimension first).
        """
        chosen = Adam(parameters, self.lr, (self.beta1, self.beta2), self.eps)
        chosen.n_steps = self.n_steps
        chosen.first = [m[index].clone() for m in self.first]
        chosen.second = [v[index].clone() for v in self.second]
        return chosen

    @torch.no_grad()
    def reset_(self, mask: torch.Tensor) -> None:
        """Forget the moments of the networks in ``mask`` (N,), e.g. after a restart.

        The step count is shared, so a restarted network keeps the bias
        correction of the others: its first updates are slightly smaller.
        """
        for m, v in zip(self.first, self.second):
            shape = (len(mask),) + (1,) * (m.dim() - 1)
            m.masked_fill_(mask.reshape(shape), 0.0)
            v.masked_fill_(mask.reshape(shape), 0.0)

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.n_steps += 1
        correction1 = 1.0 - self.beta1**self.n_steps
        correction2 = 1.0 - self.beta2**self.n_steps
        for p, m, v in zip(self.parameters, self.first, self.second):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1.0 - self.beta1)
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1.0 - self.beta2)
            denominator = (v / correction2).sqrt_().add_(self.eps)
            p.addcdiv_(m, denominator, value=-self.lr / correction1)
