"""The one JSON writer of the benchmarks: every report ends with the same machine fields.

Each benchmark builds its own report (its own keys) and hands it to `write_report`, which
adds what the figures were measured on and under: the load average and `uptime`, the CPU
count, the machine, and the versions (`kungfu_rl.runtime.versions.versions()` plus the git commit
and whether the tree had uncommitted changes besides the files the script itself writes).
A test checks that no other script under benchmarks/ writes JSON itself.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("load_average", "uptime", "cpu_count", "machine", "versions")
"""The keys `write_report` adds; a report may not set them itself."""


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _uptime() -> str | None:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


def _cpu_model() -> str:
    """The CPU's model name (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine_fields(generated: Sequence[Path] = ()) -> dict[str, Any]:
    """Load, CPU count, machine and versions, as every report records them. `git_dirty`
    leaves out the `generated` files: those the script rewrites on every run (a doc built
    from its reports), which would otherwise mark the next run's tree dirty."""
    from kungfu_rl.runtime.versions import versions  # here: importing this module stays light

    commit = _git("rev-parse", "--short", "HEAD")
    left_out = [f":(exclude){Path(p).resolve().relative_to(ROOT.resolve())}" for p in generated]
    status = (
        _git("status", "--porcelain", "--untracked-files=no", "--", ".", *left_out)
        if commit
        else None
    )
    return {
        "load_average": list(os.getloadavg()),
        "uptime": _uptime(),
        "cpu_count": os.cpu_count(),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu": _cpu_model(),
        },
        "versions": {
            **versions(),
            "git_commit": commit,
            "git_dirty": None if status is None else bool(status),
        },
    }


def write_report(report: dict[str, Any], out: Path, generated: Sequence[Path] = ()) -> None:
    """Write `report` plus the machine fields (`FIELDS`) to `out` as JSON; say so.
    `generated`: files under ROOT that `git_dirty` leaves out (see `machine_fields`)."""
    clash = sorted(set(report) & set(FIELDS))
    if clash:
        raise ValueError(f"write_report adds {clash} itself; rename the report's keys")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**report, **machine_fields(generated)}, indent=2))
    print(f"wrote {out}")
