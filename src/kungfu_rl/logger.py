"""metrics.csv and TensorBoard, written from one `record` / `dump`."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

COLUMNS = (
    "update",
    "frames",
    "time/elapsed_s",
    "time/fps",
    "rollout/episode_score",
    "rollout/episode_length",
    "rollout/episodes",
    "loss/total",
    "loss/policy",
    "loss/value",
    "loss/entropy",
    "loss/grad_norm",
    "loss/skipped",
    "eval/score_mean",
    "eval/score_median",
    "eval/score_min",
    "eval/score_max",
)
"""Columns of metrics.csv, namespaced as the TensorBoard tags; a blank cell: not measured."""


class MetricsLogger:
    """Collects values with `record`, writes one CSV row and TensorBoard points with `dump`."""

    def __init__(self, run_dir: Path, tensorboard: bool = True, purge_after_frames: int = 0):
        """Appends to run_dir/metrics.csv; a resumed run passes the frames of its checkpoint,
        so TensorBoard drops the points a killed session logged after it."""
        self.path = Path(run_dir) / "metrics.csv"
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._file = self.path.open("a", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            self._csv.writeheader()
            self._file.flush()
        self._tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = purge_after_frames + 1 if purge_after_frames else None
            self._tb = SummaryWriter(log_dir=str(run_dir), purge_step=purge)
        self._row: dict[str, float] = {}

    def record(self, key: str, value: float) -> None:
        if key not in COLUMNS:
            raise KeyError(f"unknown metric {key!r}; add it to logger.COLUMNS")
        self._row[key] = float(value)

    def dump(self, update: int, frames: int) -> None:
        """Write what was recorded since the last dump as one row at this update."""
        row = {"update": update, "frames": frames, **self._row}
        self._csv.writerow({k: _cell(v) for k, v in row.items()})
        self._file.flush()
        if self._tb is not None:
            for key, value in self._row.items():
                if math.isfinite(value):
                    self._tb.add_scalar(key, value, global_step=frames)
            self._tb.flush()
        self._row = {}

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def _cell(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    return "" if not math.isfinite(value) else f"{value:.6g}"


def truncate_metrics(path: Path, last_update: int) -> None:
    """Drop the rows after `last_update` (logged after the checkpoint a run resumes from).

    The file is rewritten atomically, so a kill now leaves either the old or the new one.
    """
    path = Path(path)
    if not path.is_file():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    # a row cut short by a kill has too few cells (or a cut-off update number): drop it
    keep = [
        r for r in body if len(r) == len(header) and r[0].isdigit() and int(r[0]) <= last_update
    ]
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as f:
        csv.writer(f).writerows([header, *keep])
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_metrics(path: Path) -> dict[str, list[float]]:
    """metrics.csv -> {column: values}, NaN for blank cells."""
    with Path(path).open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, cell in row.items():
            columns.setdefault(key, []).append(float(cell) if cell not in ("", None) else math.nan)
    return columns
