"""Checkpoints: written atomically, the newest K loadable ones kept.

They are read (`torch.load(weights_only=True)`, every part checked) by `runfiles`, with
every other file of a run folder; the readers' names below are its.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .files import CHECKPOINT_DIR as CHECKPOINT_DIR
from .files import CheckpointError as CheckpointError
from .files import checkpoint_order, read_checkpoint, read_newest_checkpoint, set_aside, warn
from .files import find_checkpoint as find_checkpoint
from .files import list_checkpoints as list_checkpoints

load_checkpoint = read_checkpoint
load_newest = read_newest_checkpoint


class CheckpointWriteError(OSError):
    """A checkpoint that could not be written: a full disk, a read-only or vanished folder.

    `errno` and `strerror` are the system's; `filename` is the checkpoints folder.
    """


def _os_error_in(error: BaseException) -> OSError | None:
    """The OSError that `error` is, or that it was raised on top of (torch's zip writer
    turns a failed write into `RuntimeError: ... unexpected pos`, the OSError its context)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None or isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def rng_state() -> dict[str, Any]:
    """torch, numpy and python RNG states as tensors and plain values (weights_only-safe)."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "python": [list(x) if isinstance(x, tuple) else x for x in random.getstate()],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    keys = state["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, state["numpy_pos"], 0, 0.0))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save_checkpoint(
    payload: dict[str, Any], run_dir: Path, update: int, keep: int, name: str | None = None
) -> Path:
    """Write `checkpoints/update-<N>.pt` (or `name`) atomically: temp file, fsync, rename.

    Of the `update-*.pt` files the newest `keep` that load are kept (`rotate_checkpoints`).
    A failure to write (a full disk,
    a read-only or vanished run folder) removes the temporary file, leaves every earlier
    checkpoint as it was and raises CheckpointWriteError.
    """
    folder = Path(run_dir) / CHECKPOINT_DIR
    try:
        folder.mkdir(exist_ok=True)  # not parents: a run folder that vanished stays gone
    except OSError as e:
        raise CheckpointWriteError(e.errno, e.strerror, str(folder)) from None
    path = folder / (name or f"update-{update:09d}.pt")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pt")
    except OSError as e:
        raise CheckpointWriteError(e.errno, e.strerror, str(folder)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        cause = _os_error_in(e) if isinstance(e, Exception) else None
        if cause is None:
            raise
        raise CheckpointWriteError(cause.errno, cause.strerror, str(folder)) from None
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    rotate_checkpoints(run_dir, keep)
    return path


def rotate_checkpoints(run_dir: Path, keep: int) -> list[Path]:
    """Keep the `keep` newest loadable update-*.pt, newest by the update count read from
    them (a file's name may say otherwise), delete the older ones; the kept, oldest first.

    An unreadable one is never counted as kept: it is moved to checkpoints/unreadable/
    with a one-line warning, so the newest loadable checkpoint is never deleted for it.
    """
    loadable = []
    for path in list_checkpoints(run_dir):
        order = checkpoint_order(path)
        if isinstance(order, str):
            moved = set_aside(path)
            warn(f"moved {path.name} to {moved.relative_to(Path(run_dir))}: {order}")
        else:
            loadable.append((order, path.name, path))
    loadable.sort()
    for _, _, old in loadable[:-keep]:
        old.unlink(missing_ok=True)
    return [path for _, _, path in loadable[-keep:]]


def remove_partial_checkpoints(run_dir: Path) -> int:
    """Delete temporary files that a killed save left behind; how many there were."""
    partial = list((Path(run_dir) / CHECKPOINT_DIR).glob(".tmp-*"))
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)
