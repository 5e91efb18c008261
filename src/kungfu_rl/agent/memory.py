"""Recurrent memory of a batch of games: its type, its tensors per core, its reset at game ends."""

from __future__ import annotations

import torch

Memory = tuple[torch.Tensor, ...]
"""A batch of games' recurrent memory, each tensor [B, hidden]: (h, c) for the LSTM, (h,) for
the GRU, () for the feedforward core, which remembers nothing."""

MEMORY_TENSORS = {"lstm": 2, "gru": 1, "none": 0}
"""Tensors in each game's memory, per core (`config.CORES`)."""


def reset_memory(memory: Memory, is_not_done: torch.Tensor) -> Memory:
    """Zero the memory of the games that ended: each tensor [B, hidden], is_not_done [B].

    The one reset, called while acting (the pool) and in the training replay (`unroll`),
    so that both start a new game from the same zeros.
    """
    if not memory:
        return memory
    keep = is_not_done.to(device=memory[0].device, dtype=memory[0].dtype).unsqueeze(-1)  # [B, 1]
    return tuple(m * keep for m in memory)
