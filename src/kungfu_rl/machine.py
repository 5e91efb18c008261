"""What this machine offers a run: the device, the conv stack's precision, threads, memory."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .allocator import keep_freed_memory
from .config import Config, ConfigError


def pick_device(name: str) -> torch.device:
    """--device auto|cpu|cuda -> a torch device; ConfigError if CUDA is asked for but absent."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 natively (else bf16 is emulated, and slower)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return any(
        getattr(cpu, name, lambda: False)()
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )


def pick_precision(name: str, device: torch.device) -> str:
    """--precision auto|fp32|bf16 -> fp32 or bf16 for `device`."""
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return name


def cores() -> int:
    return os.cpu_count() or 1


def set_up_process(config: Config) -> None:
    """Threads for the update and glibc's malloc keeping freed memory (allocator.py).

    Both hold for the whole process from here on.
    """
    torch.set_num_threads(config.torch_threads or cores())
    keep_freed_memory()  # updates reuse memory instead of page-faulting


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's random number generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
