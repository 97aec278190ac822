"""The devices arithnet trains on, checked before any work starts."""

from __future__ import annotations

#: Valid ``device`` values of ``TrainConfig``, ``BenchConfig`` and ``--device``.
DEVICES = ("cpu", "cuda")


def known_device(name: str) -> str:
    """``name`` if it is one of DEVICES, else a one-line ValueError; what a configuration checks when built."""
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; valid devices: {', '.join(DEVICES)}")
    return name


def check_device(name: str) -> str:
    """``name`` if it is a device arithnet can use on this machine, else a one-line ValueError.

    "cuda" needs torch to see a CUDA GPU; torch is imported only to check that.
    """
    known_device(name)
    if name == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("device cuda needs a CUDA GPU, and torch finds none on this machine: use cpu")
    return name
