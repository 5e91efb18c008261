"""One writer per run folder: an OS lock on RUN/.lock while a process trains in it.

The lock is `flock`'s: the kernel drops it when its process ends, however it ends (kill -9
included), so a lock never outlives its holder and a stale lock file means nothing. Readers
(eval, plot, report) take no lock. Under torchrun rank 0 alone, the run folder's one writer,
holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ..config import ConfigError
from ..runtime.machine import free_space

LOCK_FILE = ".lock"
"""In the run folder; holds the pid of the process that trains in it, empty when none does."""


class RunLocked(ConfigError):
    """Another process trains in this run folder (one line, exit code 2)."""


class RunLock:
    """The run folder's lock, held from `acquire` until `release` or this process's end."""

    def __init__(self) -> None:
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, run_dir: Path) -> None:
        """Take the lock of `run_dir`, or RunLocked naming the process that holds it."""
        path = Path(run_dir) / LOCK_FILE
        try:
            # O_CLOEXEC: a child process (ffmpeg writing a video) must not inherit the lock
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise ConfigError(
                f"cannot write the run folder {run_dir}: {e.strerror or e} "
                f"({free_space(run_dir)} free there)"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise RunLocked(
                f"{run_dir} is in use: {who} is training in it (one writer per run folder); "
                "wait for it to end, or stop it, before training or resuming this run"
            ) from None
        except OSError as e:
            os.close(fd)
            raise ConfigError(f"cannot lock the run folder {run_dir}: {e.strerror or e}") from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as e:
            os.close(fd)  # closing drops the lock
            raise ConfigError(
                f"cannot write the run folder {run_dir}: {e.strerror or e} "
                f"({free_space(run_dir)} free there)"
            ) from None
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock; the file stays, emptied (a file left by a killed process
        names its pid, but only the flock counts). Idempotent."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the one descriptor drops the flock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isascii() and text.isdigit() else None  # not '²', which int refuses
