"""metrics.csv and TensorBoard, written from one `record` / `dump`, read back by one reader.

metrics.csv is open to new keys: a key that the file's header lacks (a run folder from an
older version, a metric added later) widens the header, the older rows getting blank cells.
Readers take any column set; a damaged row is skipped and counted, never fatal.
"""

from __future__ import annotations

import csv
import math
import os
import sys
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
    "loss/explained_variance",
    "loss/lr",
    "eval/score_mean",
    "eval/score_median",
    "eval/score_min",
    "eval/score_max",
)
"""Columns this version writes, namespaced as the TensorBoard tags; a blank cell: not measured.
`loss/…` are the update's: its losses, gradient norm, whether it was skipped, the explained
variance (how much of the value targets' variance the values explain) and the learning rate
the optimizer took (that of the row's last update)."""


def frames_per_second(frames: float, seconds: float) -> float:
    """The package's one frames/s: emulator frames per second of wall clock, evaluations
    and checkpoints included (NaN for no time). Used by the progress bar and lines, the
    `time/fps` column (over a metrics row's window), the last line and the report (over
    the whole run)."""
    return frames / seconds if seconds > 0 else math.nan


def _parse_rows(path: Path) -> tuple[list[str], list[list[float]], int]:
    """metrics.csv -> (header, rows of floats with NaN for blank cells, damaged rows skipped).

    A row is damaged when it does not parse as CSV, its cell count differs from the
    header's (cut short by a kill, say), a cell is neither blank nor a finite number, or its
    update or frames is not a whole number >= 0. Without a header naming `update` and
    `frames` every row is damaged. Each line is parsed alone, so that a bad one (random
    bytes, NUL bytes, a cell too large for csv) costs only itself.
    """
    try:
        with Path(path).open(newline="", encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\r") for line in f.read().split("\n")]
    except OSError:
        return [], [], 0
    table: list[list[str] | None] = []  # None: a line that is not CSV
    for line in lines:
        if not line:
            continue
        try:
            table.append(next(csv.reader([line.replace("\0", "")]), []))
        except csv.Error:
            table.append(None)
    header = table[0] if table else None
    if not header or "update" not in header or "frames" not in header:
        return [], [], max(len(table) - 1, 0)
    at = header.index("update"), header.index("frames")
    rows, skipped = [], 0
    for cells in table[1:]:
        try:
            if cells is None or len(cells) != len(header):
                raise ValueError
            row = [float(c) if c.strip() else math.nan for c in cells]
            if not all(math.isfinite(v) for v, c in zip(row, cells, strict=True) if c.strip()):
                raise ValueError  # "inf", "nan", "1e999": this package writes a blank cell
            if not all(row[i] >= 0 and float(row[i]).is_integer() for i in at):
                raise ValueError
        except ValueError:
            skipped += 1
            continue
        rows.append(row)
    return header, rows, skipped


def warn_damaged_rows(path: Path, skipped: int) -> None:
    """The one warning for damaged rows: how many were skipped."""
    if skipped:
        print(f"warning: {path}: skipped {skipped} damaged row(s)", file=sys.stderr)


def load_metrics(path: Path) -> tuple[dict[str, list[float]], int]:
    """`read_metrics` without its warning, and the number of damaged rows it skipped."""
    header, rows, skipped = _parse_rows(path)
    columns = {key: [math.nan] * len(rows) for key in (*COLUMNS, *header)}
    for i, key in enumerate(header):
        columns[key] = [row[i] for row in rows]
    if not rows:
        columns = {key: [] for key in columns}
    return columns, skipped


def read_metrics(path: Path) -> dict[str, list[float]]:
    """metrics.csv -> {column: values}, NaN for blank cells; every column of this version is
    there (all NaN when the file lacks it); damaged rows are skipped with a warning."""
    columns, skipped = load_metrics(path)
    warn_damaged_rows(path, skipped)
    return columns


def _rewrite(path: Path, header: list[str], rows: list[list[float]]) -> None:
    """Write metrics.csv anew, atomically: a kill now leaves either the old or the new file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def truncate_metrics(path: Path, last_update: int) -> None:
    """Keep the rows up to `last_update` (later ones were logged after the checkpoint a run
    resumes from) and drop damaged ones, so that none is carried forward."""
    path = Path(path)
    if not path.is_file():
        return
    header, rows, skipped = _parse_rows(path)
    if skipped:  # the file as it was stays, in unreadable/, before the rows go
        from .files import set_aside  # (it brings torch; only a resume truncates)

        kept = set_aside(path, copy=True).relative_to(path.parent)
        print(
            f"warning: {path}: skipped {skipped} damaged row(s); the file as it was is kept "
            f"as {kept}",
            file=sys.stderr,
        )
    if not header:
        header = list(COLUMNS)
    at = header.index("update")
    _rewrite(path, header, [r for r in rows if r[at] <= last_update])


class MetricsLogger:
    """Collects values with `record`, writes one CSV row and TensorBoard points with `dump`."""

    def __init__(self, run_dir: Path, tensorboard: bool = True, purge_after_frames: int = 0):
        """Appends to run_dir/metrics.csv; a resumed run passes the frames of its checkpoint,
        so TensorBoard drops the points a killed session logged after it."""
        self.path = Path(run_dir) / "metrics.csv"
        header, rows, _ = _parse_rows(self.path) if self.path.is_file() else ([], [], 0)
        self.columns = header or list(COLUMNS)
        missing = [c for c in COLUMNS if c not in self.columns]
        if not header or missing:
            self._widen(missing, rows)
        self._file = self.path.open("a", newline="")
        self._tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = purge_after_frames + 1 if purge_after_frames else None
            self._tb = SummaryWriter(log_dir=str(run_dir), purge_step=purge)
        self._row: dict[str, float] = {}

    def _widen(self, new: list[str], rows: list[list[float]]) -> None:
        """Add columns `new` to the header; the rows so far get blank cells there."""
        self.columns += new
        _rewrite(self.path, self.columns, [r + [math.nan] * len(new) for r in rows])

    def record(self, key: str, value: float) -> None:
        self._row[key] = float(value)

    def dump(self, update: int, frames: int) -> None:
        """Write what was recorded since the last dump as one row at this update."""
        row = {"update": update, "frames": frames, **self._row}
        new = [k for k in row if k not in self.columns]
        if new:  # a key this file has not seen: widen its header first
            self._file.close()
            _, rows, _ = _parse_rows(self.path)
            self._widen(new, rows)
            self._file = self.path.open("a", newline="")
        csv.writer(self._file).writerow([_cell(row.get(k, math.nan)) for k in self.columns])
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
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return "" if not math.isfinite(value) else f"{value:.6g}"
