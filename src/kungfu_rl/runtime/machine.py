"""What this machine offers a run: the device, the conv stack's precision, threads, memory."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ..config import Config, ConfigError
from .allocator import keep_freed_memory


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


def set_up_process(config: Config) -> int:
    """Threads for the update and glibc's malloc keeping freed memory (allocator.py).

    The thread count holds until the Trainer gives the one returned back; the malloc setting
    for the rest of the process (it cannot be undone exactly). Returns the thread count the
    process had.
    """
    before = set_threads(config.torch_threads or cores())
    keep_freed_memory()  # updates reuse memory instead of page-faulting
    return before


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """torch's intra-op threads set to `n` for the block (None: left as they are), then
    given back, however the block ends."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def set_threads(n: int) -> int:
    """Set torch's intra-op threads to `n`; the count it had, to give back later."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    return before


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's random number generators.

    numpy takes seeds below 2**32; a seed derived from a long run's update count may be
    larger, and is taken modulo 2**32 (every smaller seed stays as it is)."""
    seed %= 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def fork_rng(seed: int, device: torch.device) -> Iterator[None]:
    """python's, numpy's and torch's RNGs (the CPU's, and `device`'s if it is a GPU) seeded
    with `seed` for the block and put back as they were after it, however it ends: what the
    block draws leaves every stream outside it where it was."""
    python, numpy = random.getstate(), np.random.get_state()
    cuda = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=cuda):
            seed %= 2**32
            random.seed(seed)
            np.random.seed(seed)
            torch.default_generator.manual_seed(seed)
            if cuda:
                with torch.cuda.device(device):
                    torch.cuda.manual_seed(seed)  # this device's alone: the others are not forked
            yield
    finally:
        random.setstate(python)
        np.random.set_state(numpy)


def free_space(path: Path | str) -> str:
    """Free space on the disk that holds `path` (or its nearest existing parent), as text:
    "3.2 MB"; "unknown" where even that cannot be read."""
    where = Path(path).absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = float(shutil.disk_usage(where).free)
    except OSError:
        return "unknown"
    if free < 1000:
        return f"{free:.0f} B"
    for unit in ("kB", "MB", "GB", "TB"):
        free /= 1000
        if free < 1000 or unit == "TB":
            break
    return f"{free:.1f} {unit}"
