"""The package's version, and the versions a result was produced with, for every JSON and
report that holds one; the git commit of the package's own source, for the run folder."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent.parent
"""The package's own directory (src/kungfu_rl in a checkout): the one place git is run."""

__version__ = "0.1.0"
"""kungfu_rl's version (pyproject.toml's); the package's own `kungfu_rl.__version__`."""


def versions() -> dict[str, str]:
    import ale_py
    import gymnasium
    import numpy
    import torch

    return {
        "kungfu_rl": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ale_py": ale_py.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
    }


def code_version() -> dict[str, Any]:
    """The code this process runs: kungfu_rl's version and `source_commit()`'s record."""
    return {"kungfu_rl": __version__, **source_commit()}


@functools.lru_cache(maxsize=8)
def source_commit(directory: Path = PACKAGE_DIR) -> dict[str, Any]:
    """{"git_commit": HEAD's hash, "git_dirty": whether a file of `directory` differs from
    it (untracked ones included)} when `directory` is a package tracked in a git checkout;
    both None when it is not (an installed copy, no git on the machine, git failing), never
    an error. Git runs in `directory` alone, without the caller's GIT_* variables (which
    could point it at another repository), and takes no lock on the index. Asked once per
    process: the code is the one the process started with."""
    unknown: dict[str, Any] = {"git_commit": None, "git_dirty": None}
    tracked = git_output(directory, "ls-files", "--", "__init__.py")
    if not tracked:  # not a checkout, or one that does not track this package
        return unknown
    commit = git_output(directory, "rev-parse", "--verify", "HEAD")
    status = git_output(directory, "status", "--porcelain", "--", ".")
    if not commit or status is None:
        return unknown
    return {"git_commit": commit, "git_dirty": bool(status)}


def git_output(directory: Path, *args: str) -> str | None:
    """git's output, stripped, or None when it cannot be run or fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # no index.lock: a git command of the user is not disturbed
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.stdout.strip()
