"""What each benchmark network reads: input roles, target masks, distributions, and its data.

Every network of a group has its own input distributions (its range pair),
its own target positions (k, fixed by its seed) and its own training stream,
so that a run's data does not depend on the other runs of its group. The
validation and test sets are fixed by their own seeds (task, split, input
size), as in the field's code. Shape letters: N networks (runs), B batch, I inputs.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import torch

from arithnet import random as counter_random
from arithnet.bench.protocol.distributions import sample_parameters
from arithnet.bench.protocol.tasks import RangePair
from arithnet.engine.compiler import compiled
from arithnet.operations import Operation

_CHUNK = 8  # steps of training inputs per counter of the random stream (fixed: it decides the numbers)
#: Chunks are drawn several at a time, up to about this many inputs: for small groups
#: one call per chunk would dominate.
_DRAW_ELEMENTS = 1 << 20


def index_offset(keys: torch.Tensor, n_choices: int) -> torch.Tensor:
    """k per network, fixed by its seed: the Primer's position of a among the inputs."""
    return torch.remainder(counter_random.derive(keys, counter_random.Stream.BENCH_INDEX_SALT), n_choices)


def target_masks(task: str, input_size: int, keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(a_mask, b_mask), each (N, I): a = Σ a_mask·x, b = Σ b_mask·x."""
    positions = torch.arange(input_size)
    if task == "primer":
        k = index_offset(keys, input_size - 1)[:, None]
        return (positions == k).double(), (positions == k + 1).double()
    # ICLR: a = Σ x[k : k+25], b = Σ x[k+13 : k+38] (subset ratio 0.25, overlap 0.5).
    k = index_offset(keys, input_size - 37)[:, None]
    a_mask = (positions >= k) & (positions < k + 25)
    b_mask = (positions >= k + 13) & (positions < k + 38)
    return a_mask.double().expand(len(keys), input_size), b_mask.double().expand(len(keys), input_size)


def distribution_parameters(
    pairs: Sequence[RangePair], a_mask: torch.Tensor, b_mask: torch.Tensor, split: str
) -> tuple[torch.Tensor, ...]:
    """Per-network, per-input distribution parameters (N, 1, I) for ``split``."""
    columns = []
    for pair, a_row, b_row in zip(pairs, a_mask, b_mask):
        roles = [pair.role(split, "a"), pair.role(split, "b"), pair.role(split, "other")]
        stacked = torch.stack([torch.stack(d.parameters()) for d in roles])  # (3, 6)
        role = torch.where(a_row > 0, 0, torch.where(b_row > 0, 1, 2))
        columns.append(stacked[role])  # (I, 6)
    table = torch.stack(columns)  # (N, I, 6)
    return tuple(table[..., j][:, None, :] for j in range(6))


def fixed_uniforms(task: str, split: str, n_samples: int, input_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed U[0,1) numbers (n, I) behind a validation or test set, by their own seed."""
    seed = zlib.crc32(f"{task}/{split}/{input_size}".encode())
    keys = counter_random.stream_keys([seed])
    valid_and_test = counter_random.uniform(keys, counter_random.Stream.BENCH_DATA, 0, (2, n_samples, input_size))[0]
    return valid_and_test[0], valid_and_test[1]


class GroupData:
    """The data of one group of runs: training batches, and fixed validation and test sets.

    Args:
        task, input_size: the task. seeds: (N,) each run's seed. pairs: each run's range pair.
        operation: the target a op b. dtype, device: of the tensors handed to the unit.
    """

    def __init__(self, task, input_size, seeds, pairs, operation: Operation, dtype, device, compile=False) -> None:
        self.task, self.input_size, self.operation = task, input_size, operation
        self.dtype, self.device = dtype, device
        # Mapping the uniform numbers to inputs and targets costs about as much as
        # a compiled training step; compiled, it fuses into one pass. The hash
        # itself stays eager: its int64 arithmetic must wrap exactly as tested.
        self._transform = compiled(self._inputs_and_targets, what="data transform") if compile else None
        keys = counter_random.stream_keys(list(seeds))
        # Runs that share a seed draw the same numbers (their ranges map them
        # differently): draw once per distinct seed and index.
        unique_seeds, self.seed_index = torch.unique(torch.as_tensor(list(seeds)), return_inverse=True)
        self.unique_keys = counter_random.stream_keys(unique_seeds)
        self.masks = target_masks(task, input_size, keys)
        self.mask_matrix = torch.stack(self.masks, -1).to(dtype)  # (N, I, 2)
        # One input per operand (the Primer task): a gather, cheaper than the masked sum and equal to it.
        one_hot = bool((self.mask_matrix.sum(1) == 1).all())
        self.operand_index = self.mask_matrix.argmax(1)[:, None, None, :] if one_hot else None  # (N, 1, 1, 2)
        self.train_params = distribution_parameters(pairs, *self.masks, "train")
        self.test_params = distribution_parameters(pairs, *self.masks, "test")
        self.random_signs = bool(self.train_params[5].any())
        # Every input uniform, no random signs: one affine map.
        self.affine = not self.random_signs and bool((self.train_params[0] == 0).all())
        # Contiguous copies (N, 1, 1, I): the parameters are strided views of one table,
        # and strided loads kept a compiled map from vectorising (5× slower).
        self._low = self.train_params[1][:, None].to(dtype).contiguous()
        self._width = (self.train_params[2] - self.train_params[1])[:, None].to(dtype).contiguous()
        self._first_step, self._inputs, self._targets = 0, None, None

    def batch(self, step: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (N, B, I) and targets (N, B) for ``step``, drawn several _CHUNK-step chunks at a time."""
        offset = step - self._first_step
        if self._inputs is None or not 0 <= offset < self._inputs.shape[1]:
            self._draw((step - 1) // _CHUNK, batch_size)
            offset = step - self._first_step
        return self._inputs[:, offset], self._targets[:, offset]

    def _draw(self, chunk: int, batch_size: int) -> None:
        """Chunks ``chunk``, ``chunk + 1``, … at once: the same numbers as one call per chunk."""
        per_chunk = len(self.seed_index) * _CHUNK * batch_size * self.input_size
        n_chunks = max(1, _DRAW_ELEMENTS // per_chunk)
        shape = (2, _CHUNK, batch_size, self.input_size) if self.random_signs else (_CHUNK, batch_size, self.input_size)
        stream = counter_random.Stream.BENCH_DATA
        u = counter_random.uniform_counters(self.unique_keys, stream, range(chunk, chunk + n_chunks), shape)
        if self.random_signs:  # (U, C, 2, _CHUNK, …) → (U, 2, C·_CHUNK, …)
            u = u.transpose(1, 2)
        u = u.reshape(*u.shape[: 2 if self.random_signs else 1], n_chunks * _CHUNK, batch_size, self.input_size)
        drawn = self._transform(u) if self._transform is not None else None
        if drawn is None:  # not compiled, or the compiler failed on the first call
            self._transform = None
            drawn = self._inputs_and_targets(u)
        # Moved to the device once per draw, not once per step: a GPU then gets one copy per many steps.
        self._first_step = chunk * _CHUNK + 1
        self._inputs, self._targets = (tensor.to(self.device) for tensor in drawn)

    def _inputs_and_targets(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs (N, T, B, I) and targets (N, T, B) for T steps from the unique seeds' U[0, 1) numbers."""
        u = u.to(self.dtype)[self.seed_index]
        if self.affine:
            inputs = self._low + self._width * u
        else:
            u, u_sign = (u[:, 0], u[:, 1]) if self.random_signs else (u, u)
            inputs = sample_parameters(u, u_sign, *(p[:, None].to(self.dtype) for p in self.train_params))
        # (N, T, B, 2): a and b. A masked sum rather than a matmul, so that a compiled transform
        # fuses it; with one input per operand (the Primer task) it is the input exactly, so a gather.
        if self.operand_index is not None:
            operands = torch.gather(inputs, -1, self.operand_index.expand(*inputs.shape[:-1], 2))
        else:
            operands = (inputs[..., None] * self.mask_matrix[:, None, None]).sum(-2)
        return inputs, self.operation.compute(operands[..., 0], operands[..., 1])

    @torch.no_grad()
    def fixed_set(self, split: str, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The validation ("valid") or test set: inputs (N, n, I) in the unit's dtype, targets (N, n) in float64."""
        u, u_sign = fixed_uniforms(self.task, split, n_samples, self.input_size)
        params = self.train_params if split == "valid" else self.test_params
        x = sample_parameters(u[None], u_sign[None], *params)
        operands = x @ torch.stack(self.masks, -1)
        return x.to(self.dtype).to(self.device), self.operation.compute(operands[..., 0], operands[..., 1]).to(
            self.device
        )
