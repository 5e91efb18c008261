"""Keep freed memory in the process, so big tensors reuse pages instead of faulting in new ones.

PyTorch on CPU allocates through glibc's malloc. Blocks above malloc's mmap threshold
(at most 32 MiB) are mapped fresh on every allocation and unmapped when freed, and freed
memory at the top of the heap goes back to the system. The replay of one default rollout
(672 frames) allocates activations and gradients of up to 34 MiB, so every update touched
~30,000 new pages, each one a page fault and a page of zeroing: a third of the update's
time on the 2-core machine (docs/decisions.md, allocator: 116 -> 77 ms per update,
0 page faults). With mmap off and trimming off, freed blocks are reused once enough of them
fit; the process keeps its peak memory (+10 MiB there) instead of giving it back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# mallopt parameters, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4

_applied = False


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed memory instead of returning it; True if it did.

    A no-op returning False where malloc is not glibc's (macOS, Windows, musl).
    Idempotent; affects the whole process from this call on.
    """
    global _applied
    if _applied:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; the largest int keeps the heap's top from being trimmed
    _applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    return _applied
