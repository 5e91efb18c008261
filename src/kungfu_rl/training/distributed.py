"""Data-parallel training with torch.distributed, as started by `torchrun`.

Each rank plays its own games; after every backward pass the ranks average their gradients
in one flattened all-reduce, so every rank takes the same optimizer step and the parameters
stay equal. The same all-reduce carries two flags (a rank saw a non-finite loss; a rank was
asked to stop), so all ranks skip the same updates and stop after the same update. Before it,
the ranks gather their reward statistics (`MomentsGather`), so that all divide rewards alike.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist


class RankLost(RuntimeError):
    """A collective failed: another rank died, hung past the timeout, or the network broke."""


def _collective(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a torch.distributed collective; its failures become RankLost, one line."""
    try:
        return fn(*args, **kwargs)
    except RuntimeError as e:  # gloo and nccl raise RuntimeError or its subclass DistError
        raise RankLost(_first_sentence(e)) from None


def _first_sentence(error: Exception) -> str:
    """`[gloo/transport/tcp/pair.cc:537] Read error ...: Connection reset by peer. This is
    typically ...` -> `Read error ...: Connection reset by peer`: the news, one line."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    first = re.sub(r"^\[[^\]]*\.(cc|cpp|h|hpp):\d+\]\s*", "", first)
    return first.split(". ")[0][:200]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: global rank, world size, rank on its own machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world_size_from_env() -> int:
    """How many ranks torchrun started (WORLD_SIZE); 1 when run alone."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_from_env(device_name: str, timeout_s: float) -> DistInfo:
    """Join the process group that torchrun's RANK / WORLD_SIZE / MASTER_* describe.

    Backend: nccl on CUDA, gloo on CPU. `timeout_s` bounds every collective, so a rank that
    dies makes the others fail with an error instead of waiting for ever.
    """
    world = world_size_from_env()
    if world <= 1:
        return DistInfo()
    info = DistInfo(
        rank=int(os.environ["RANK"]),
        world_size=world,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    if not dist.is_initialized():
        # The first torch.optim optimizer imports torch._dynamo, which then keeps references
        # to the process group of the day: destroy_process_group could not free it, and its
        # gloo threads, still alive at exit, abort the process now and then ("terminate
        # called without an active exception"). Imported before the group exists, it holds none.
        import torch._dynamo

        cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
        if cuda:
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(seconds=timeout_s))
    return info


def broadcast_object(info: DistInfo, value: Any) -> Any:
    """Rank 0's `value` on every rank."""
    if not info.enabled:
        return value
    box = [value]
    _collective(dist.broadcast_object_list, box, src=0)
    return box[0]


def gather_lists(info: DistInfo, values: list[Any]) -> list[Any]:
    """Every rank's list, concatenated in rank order, on every rank."""
    if not info.enabled:
        return list(values)
    boxes: list[Any] = [None] * info.world_size
    _collective(dist.all_gather_object, boxes, list(values))
    return [v for box in boxes for v in box]


def broadcast_parameters(info: DistInfo, module: torch.nn.Module) -> None:
    """Start every rank from rank 0's parameters."""
    if info.enabled:
        for p in module.parameters():
            _collective(dist.broadcast, p.data, src=0)


class GradientSync:
    """Averages gradients over the ranks in one all-reduce and shares two flags.

    Called by `train_on_rollout` between backward and the gradient clip:
    `sync(grads, nonfinite)` -> True if any rank's loss was not finite.
    """

    def __init__(self, info: DistInfo, stop_requested: Callable[[], bool]):
        self.info = info
        self.stop_requested = stop_requested
        self.any_stop = False

    def __call__(self, grads: list[torch.Tensor], nonfinite: bool) -> bool:
        flags = torch.tensor(
            [float(nonfinite), float(self.stop_requested())], device=grads[0].device
        )
        flat = torch.cat([g.reshape(-1) for g in grads] + [flags])  # [n_params + 2]
        _collective(dist.all_reduce, flat)
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset : offset + n].view_as(g) / self.info.world_size)
            offset += n
        self.any_stop = bool(flat[-1] > 0)
        return bool(flat[-2] > 0)


class MomentsGather:
    """Every rank's (count, mean, variance) of its rewards' returns, in rank order, on every
    rank (one all-gather): `ReturnNormalizer` merges them all, so that the ranks keep one set
    of reward statistics, which rank 0's checkpoint holds and a resume gives every rank."""

    def __init__(self, info: DistInfo, device: torch.device):
        self.info = info
        self.device = device  # nccl gathers GPU tensors, gloo CPU ones

    def __call__(self, moments: tuple[float, float, float]) -> list[tuple[float, float, float]]:
        mine = torch.tensor(moments, dtype=torch.float64, device=self.device)  # [3]
        every = [torch.empty_like(mine) for _ in range(self.info.world_size)]
        _collective(dist.all_gather, every, mine)
        return [(float(n), float(mean), float(var)) for n, mean, var in torch.stack(every).tolist()]


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
