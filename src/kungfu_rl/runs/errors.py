"""The errors a run folder's readers raise, each message one line naming the file.

Free of torch and ale-py, so that the command line can catch them before any heavy import.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ConfigError


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not a kungfu_rl checkpoint.

    `reason` is the message without the file's path, for a warning that names the file;
    `skipped`, for a run with no loadable checkpoint, the unreadable ones and their reasons.
    """

    def __init__(
        self, message: str, reason: str | None = None, skipped: list[tuple[Path, str]] | None = None
    ):
        super().__init__(message)
        self.reason = reason or message
        self.skipped = skipped or []


class RunFileError(ConfigError):
    """A run folder's config.json or eval record that is missing or damaged (one line)."""
