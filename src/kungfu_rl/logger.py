"""metrics.csv and TensorBoard, written from one `record` / `dump`."""

from __future__ import annotations

import csv
import math
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

    def __init__(self, run_dir: Path, tensorboard: bool = True):
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

            self._tb = SummaryWriter(log_dir=str(run_dir))
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


def read_metrics(path: Path) -> dict[str, list[float]]:
    """metrics.csv -> {column: values}, NaN for blank cells."""
    with Path(path).open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, cell in row.items():
            columns.setdefault(key, []).append(float(cell) if cell not in ("", None) else math.nan)
    return columns
