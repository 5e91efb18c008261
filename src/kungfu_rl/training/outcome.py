"""How a training run ends: what it gives back, or the one-line error that stopped it."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agent.networks import RecurrentAgent
from ..config import Config
from ..runs.checkpoints import read_newest_checkpoint
from ..runs.errors import CheckpointError
from ..runtime.machine import free_space


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped training; a checkpoint was written first."""

    def __init__(self, run_dir: Path, checkpoint: Path, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}; checkpoint {checkpoint}")
        self.run_dir = run_dir
        self.checkpoint = checkpoint
        self.signum = signum


class TrainingFailed(Exception):
    """Training cannot go on: non-finite updates (exit code 1), or a checkpoint that cannot be
    written, a full disk say (exit code 2); the last good checkpoint is left as it was."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def write_failed(error: OSError, run_dir: Path, what: str = "files") -> TrainingFailed:
    """A write into the run folder failed: a full disk, a file-size limit, a read-only or
    vanished folder. One line naming the folder, its free space and the newest checkpoint
    (atomic saves leave it as it was); exit code 2, like every error a user can fix."""
    where = Path(os.fsdecode(error.filename)) if error.filename else Path(run_dir)  # or bytes
    newest = newest_checkpoint(run_dir)
    kept = f"the newest checkpoint, {newest}, is intact" if newest else "no checkpoint is on disk"
    return TrainingFailed(
        f"could not write {what} in {where}: {error.strerror or error} "
        f"({free_space(where)} free there); {kept}",
        exit_code=2,
    )


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The run's newest loadable checkpoint by the update count it holds, if any."""
    try:
        return read_newest_checkpoint(run_dir)[0]
    except CheckpointError:
        return None


@dataclass
class TrainResult:
    run_dir: Path
    config: Config
    is_main: bool
    """False on the ranks of a distributed run other than 0, which wrote nothing."""
    updates: int
    frames: int
    wall_time_s: float
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    agent: RecurrentAgent | None = None
    """The trained agent, for use from Python."""
