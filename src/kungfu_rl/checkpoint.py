"""Checkpoints: written atomically, the newest K kept, loaded without running pickled code."""

from __future__ import annotations

import os
import pickle
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT_DIR = "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not a kungfu_rl checkpoint."""


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

    Of the `update-*.pt` files the newest `keep` are kept. A failure (a full disk, say)
    removes the temporary file and leaves every earlier checkpoint as it was.
    """
    folder = Path(run_dir) / CHECKPOINT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"update-{update:09d}.pt")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def remove_partial_checkpoints(run_dir: Path) -> int:
    """Delete temporary files that a killed save left behind; how many there were."""
    partial = list((Path(run_dir) / CHECKPOINT_DIR).glob(".tmp-*"))
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's checkpoints, oldest first."""
    return sorted((Path(run_dir) / CHECKPOINT_DIR).glob("update-*.pt"))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load with `weights_only=True`: tensors and plain values only, never arbitrary code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} refused: not a plain-weights checkpoint ({first})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"{path} is unreadable ({type(e).__name__}: {e})") from None
    if not isinstance(payload, dict) or "model" not in payload or "config" not in payload:
        raise CheckpointError(f"{path} is not a kungfu_rl checkpoint")
    return payload


def load_newest(run_dir: Path) -> tuple[Path, dict[str, Any], list[tuple[Path, str]]]:
    """The newest checkpoint of a run that loads, and the newer ones skipped with the reason."""
    found = list_checkpoints(run_dir)
    if not found:
        raise CheckpointError(
            f"{run_dir} holds no checkpoint (looked in {Path(run_dir) / CHECKPOINT_DIR})"
        )
    skipped: list[tuple[Path, str]] = []
    for path in reversed(found):
        try:
            return path, load_checkpoint(path), skipped
        except CheckpointError as e:
            skipped.append((path, str(e)))
    raise CheckpointError(f"{run_dir} has no loadable checkpoint ({len(skipped)} unreadable)")


def find_checkpoint(run_or_file: Path) -> Path:
    """A checkpoint file as given, or the newest one in a run folder."""
    p = Path(run_or_file)
    if p.is_file():
        return p
    if not p.is_dir():
        raise CheckpointError(f"no run folder or checkpoint at {p}")
    found = list_checkpoints(p)
    if not found:
        raise CheckpointError(f"{p} holds no checkpoint (looked in {p / CHECKPOINT_DIR})")
    return found[-1]
