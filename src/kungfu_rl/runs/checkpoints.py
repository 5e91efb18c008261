"""Checkpoints: written atomically, the newest K loadable ones kept, read back with every part
checked (`torch.load(weights_only=True)`, then `payload.check_payload`)."""

from __future__ import annotations

import functools
import os
import pickle
import random
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checks import Damaged
from .errors import CheckpointError
from .files import set_aside, warn
from .payload import check_payload

CHECKPOINT_DIR = "checkpoints"


# --- checkpoints --------------------------------------------------------------------------


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's update-*.pt files by name; which is newest is the update count inside
    them (`read_newest_checkpoint`), not the name."""
    return sorted((Path(run_dir) / CHECKPOINT_DIR).glob("update-*.pt"))


def read_checkpoint(path: Path, resumable: bool = False) -> dict[str, Any]:
    """A checkpoint's payload with every part checked, or CheckpointError ("unreadable")
    naming the file and the first thing wrong with it.

    Loaded with `torch.load(weights_only=True)`: tensors and plain values only, never code.
    Checked: the config (through `settle`, as the command line's), the weights (the names,
    shapes and finite values of the network that config builds) and, where present, the
    counters, the optimizer state, the RNG states and the evaluations. `resumable` also
    asks for what a resume needs (optimizer, update, frames); the packaged agent holds the
    weights and the config only.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    payload = _load_plain(path)
    try:
        check_payload(payload, resumable)
    except Damaged as e:
        raise _unreadable(path, str(e)) from None
    return payload


def read_newest_checkpoint(run_dir: Path) -> tuple[Path, dict[str, Any], list[tuple[Path, str]]]:
    """The run's newest resumable checkpoint, newest by the update count it holds (not its
    file name), and every unreadable one with its reason, to say that it was skipped.

    CheckpointError when the run holds none that reads.
    """
    run_dir = Path(run_dir)
    found = list_checkpoints(run_dir)
    if not found and (run_dir / "config.json").is_file() and never_saved(run_dir):
        raise CheckpointError(
            f"{run_dir} holds no checkpoint: it stopped before its first one; start it anew "
            f"with kungfu train --runs-dir {run_dir.parent} --run-name {run_dir.name} ..."
        )
    if not found:
        what = "" if (run_dir / "config.json").is_file() else "it is not a run folder: "
        raise CheckpointError(
            f"{run_dir} holds no checkpoint ({what}nothing in {run_dir / CHECKPOINT_DIR})"
        )
    newest: tuple[tuple[int, int, str], Path, dict[str, Any]] | None = None
    skipped: list[tuple[Path, str]] = []
    for path in found:
        try:
            payload = read_checkpoint(path, resumable=True)
        except CheckpointError as e:
            skipped.append((path, e.reason))
            continue
        order = (payload["update"], payload["frames"], path.name)
        if newest is None or order > newest[0]:
            newest = (order, path, payload)
    if newest is None:
        raise CheckpointError(
            f"{run_dir} has no loadable checkpoint ({len(skipped)} unreadable; "
            f"{skipped[-1][0].name}: {skipped[-1][1]})",
            skipped=skipped,
        )
    return newest[1], newest[2], skipped


def never_saved(run_dir: Path) -> bool:
    """Whether a run folder holds no checkpoint file at all, not even an unreadable one set
    aside: a start that ended before its first checkpoint, whose name may be used anew."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    return not any(p.is_file() and not p.name.startswith(".tmp-") for p in folder.rglob("*"))


def warn_skipped(skipped: list[tuple[Path, str]], using: Path | None = None) -> None:
    """One warning line per unreadable checkpoint passed over, naming the one used."""
    for path, why in skipped:
        warn(f"skipped {path.name}: {why}" + (f"; using {using.name}" if using else ""))


def find_checkpoint(run_or_file: Path | str) -> Path:
    """A checkpoint file as given, or a run folder's newest loadable one (the unreadable
    ones passed over are named in warnings)."""
    p = Path(run_or_file)
    if p.is_file():
        return p
    if not p.is_dir():
        raise CheckpointError(f"no run folder or checkpoint at {p}")
    path, _, skipped = read_newest_checkpoint(p)
    warn_skipped(skipped, using=path)
    return path


def checkpoint_order(path: Path) -> tuple[int, int] | str:
    """(update, frames) of a resumable checkpoint, or why it is unreadable; remembered per
    file version, so a rotation reads each checkpoint once."""
    try:
        st = path.stat()
    except OSError as e:
        return e.strerror or str(e)
    return _order(str(path), st.st_ino, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _order(path: str, ino: int, size: int, mtime_ns: int) -> tuple[int, int] | str:
    try:
        payload = read_checkpoint(Path(path), resumable=True)
    except CheckpointError as e:
        return e.reason
    return payload["update"], payload["frames"]


def _unreadable(path: Path, reason: str) -> CheckpointError:
    return CheckpointError(f"{path} is unreadable: {reason}", reason=reason)


def _load_plain(path: Path) -> Any:
    not_one = _not_torch_file(path)
    if not_one:
        raise _unreadable(path, f"it is not a checkpoint ({not_one})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol notice: not the user's
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        reason = f"refused, it holds more than weights ({_torch_reason(e)})"
        raise _unreadable(path, reason) from None
    except Exception as e:  # damaged bytes make torch.load raise almost any type
        raise _unreadable(path, _torch_reason(e)) from None


_ZIP, _PICKLE, _TAR = b"PK\x03\x04", b"\x80", b"ustar"


def _not_torch_file(path: Path) -> str | None:
    """What `path` is, in a few words, if its first bytes are none that torch.save writes
    (a zip, or the legacy pickle or .tar); None where torch.load should judge it."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return None  # torch.load meets the same error and words it
    if head.startswith(_ZIP):
        return None if _torch_zip(path) else "a zip file without torch's data.pkl"
    if head.startswith(_PICKLE) or head[257:262] == _TAR:
        return None
    if not head:
        return "an empty file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""  # binary, or UTF-8 cut inside a character: judged as binary
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "a text file; torch.save writes zip files"
    return "its first bytes are not those of a file torch.save writes"


def _torch_zip(path: Path) -> bool:
    """Whether a zip file holds torch's data.pkl, or cannot be listed (torch.load words it)."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(name.endswith("/data.pkl") for name in z.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return True


_ADVICE = re.compile(
    r"weights_only|trusted source|arbitrary code|file an issue|documentation|safe_globals|"
    r"internal miniz error|high likelihood|not saved properly"
)


def _torch_reason(error: BaseException) -> str:
    """torch.load's message in a few words, without its advice (never weights_only=False)."""
    text = str(error)
    if "legacy .tar format" in text:
        return "saved in torch's legacy .tar format, not a zip checkpoint"
    text = text.split("WeightsUnpickler error:", 1)[-1]
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+|\n", text) if s.strip()]
    kept = [s for s in sentences if not _ADVICE.search(s)]
    name = type(error).__name__
    return f"{name}: {kept[0][:200].rstrip('.')}" if kept else f"{name}, cut short or damaged"


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
    """torch, numpy and python RNG states as tensors and plain values (weights_only-safe),
    and under "cuda" every GPU's torch state once this process uses CUDA. A process that
    never touched CUDA has drawn nothing from it (and asking would make it start CUDA on
    every GPU): its GPUs' states are what seeding left, as a resume's seeding leaves them."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64)),
        "numpy_pos": int(np_state[2]),
        "python": [list(x) if isinstance(x, tuple) else x for x in random.getstate()],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())  # [GPUs] uint8 tensors
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """The states `rng_state` gave back. A checkpoint written on another machine restores
    what this one has: GPU k takes the state of the writer's GPU k where both have one, and
    a GPU that the writer lacked (or every GPU, after a CPU machine's) keeps its seeded state;
    on a machine without CUDA the GPU states are not used."""
    torch.set_rng_state(state["torch"])
    keys = state["numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, state["numpy_pos"], 0, 0.0))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    gpus = state.get("cuda")
    if gpus and torch.cuda.is_available():
        for device, gpu_state in enumerate(gpus[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(gpu_state, device)


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
