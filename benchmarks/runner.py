"""What the benchmark runners share: `kungfu train` and `kungfu eval` as subprocesses, a run
folder read back into a result, and the one JSON writer.

Each runner builds its own report (its own keys) and hands it to `write_report`, which adds
what the figures were measured on and under: the load average and `uptime`, the CPU count,
the machine, and the versions (`kungfu_rl.runtime.versions.versions()` plus the git commit
and whether the tree had uncommitted changes besides the files the script itself writes).
A test checks that no runner writes JSON itself.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.protocol import settings_that_differ
from kungfu_rl.runs.metrics import read_metrics
from kungfu_rl.runtime.versions import git_output

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("load_average", "uptime", "cpu_count", "machine", "versions")
"""The keys `write_report` adds; a report may not set them itself."""
EVAL_GAMES = 20
EVAL_SEED = 12345  # `kungfu eval`'s seed: evaluating one checkpoint again gives the same scores
WINDOW = 100  # finished training games in a run's moving mean (the published figures' count)


# -- subprocesses ------------------------------------------------------------------------------


def kungfu(*args: str) -> list[str]:
    """The command line of `kungfu ARGS`, run by this interpreter."""
    return [sys.executable, "-m", "kungfu_rl", *args]


def as_typed(cmd: Sequence[str]) -> str:
    """A `kungfu(...)` command line as a person types it: `kungfu train --frames ...`."""
    return " ".join(["kungfu", *cmd[3:]])


def start_training(cmd: list[str], log: Path, append: bool = False) -> subprocess.Popen:
    """Start `cmd` (a `kungfu(...)` line), its output into `log` (after what it holds, with
    `append`); say so."""
    print("$", " ".join(cmd[2:]), flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a" if append else "w") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def finished(run: Path) -> bool:
    """Whether the run folder's training finished (the trainer writes eval-final-* at its end)."""
    return any(run.glob("eval-final-*.json"))


def refuse_unfinished(run: Path, retrain_hint: str = "") -> None:
    """SystemExit for a run folder that exists but did not finish: resumed, not overwritten."""
    if run.exists() and not finished(run):
        raise SystemExit(
            f"{run} exists but did not finish: `kungfu train --resume {run}` first{retrain_hint}"
        )


def evaluated(run: Path, games: int = EVAL_GAMES) -> dict:
    """The sampled `kungfu eval` record of the run's final checkpoint with `games` games,
    evaluating it first where there is none."""
    record = final_eval(run, games)
    if record is None:
        print("$ kungfu eval", run, "--games", games, flush=True)
        subprocess.run(kungfu("eval", str(run), "--games", str(games)), check=True)
        record = newest_eval(run)
    return record


# -- a run folder, read back -------------------------------------------------------------------


def sampled_evals(run_dir: Path) -> list[dict]:
    """The run's `kungfu eval` records, oldest first, less the trainer's own (eval-final-*)
    and those of `--greedy` play: the benchmarks' protocol samples the policy's actions."""
    from kungfu_rl.runs.files import read_eval_records  # (it brings ale-py)

    return [
        record
        for path, record in read_eval_records(run_dir)
        if not path.name.startswith("eval-final") and not record.get("greedy", False)
    ]


def newest_eval(run_dir: Path) -> dict:
    """The newest sampled `kungfu eval` record of a run."""
    return sampled_evals(run_dir)[-1]


def final_eval(run_dir: Path, games: int) -> dict | None:
    """A sampled `kungfu eval` record of the run's final checkpoint with `games` games, if one
    exists. Evaluation is seeded, so evaluating the same checkpoint again gives the same scores.
    """
    final_frames = int(read_metrics(run_dir / "metrics.csv")["frames"][-1])
    for record in sampled_evals(run_dir):
        if (record.get("games"), record.get("frames"), record.get("seed")) == (
            games,
            final_frames,
            EVAL_SEED,
        ):
            return record
    return None


def moving_means(metrics_csv: Path, window: int = WINDOW) -> list[dict]:
    """At every logged row after the first finished game: the mean score of the last
    `window` finished training games (fewer before `window` have finished), their count,
    and the row's frames, minutes and update.

    metrics.csv holds, per row, the mean score and the count of games finished since the
    previous row; the moving mean weights each row's mean by its count.
    """
    m = read_metrics(metrics_csv)
    rows: list[tuple[float, int]] = []  # (mean score, games) per row, newest last
    out = []
    for i, episodes in enumerate(m["rollout/episodes"]):
        n = int(episodes) if math.isfinite(episodes) else 0
        if n:
            rows.append((m["rollout/episode_score"][i], n))
        total, games = 0.0, 0
        for mean, k in reversed(rows):
            take = min(k, window - games)
            total, games = total + mean * take, games + take
            if games >= window:
                break
        if games:
            out.append(
                {
                    "frames": int(m["frames"][i]),
                    "minutes": round(m["time/elapsed_s"][i] / 60, 2),
                    "update": int(m["update"][i]),
                    "games": games,
                    "mean": total / games,
                }
            )
    return out


def train_seconds(metrics_csv: Path) -> float:
    """The run's own clock at its last metrics row (all sessions of a resumed run)."""
    return round(read_metrics(metrics_csv)["time/elapsed_s"][-1], 1)


def steady_rate(metrics_csv: Path) -> float:
    """The median frames/s a run logged, its first quarter (the warm-up) left out."""
    fps = [f for f in read_metrics(metrics_csv)["time/fps"] if f == f]  # NaN: not logged
    return statistics.median(fps[len(fps) // 4 :])


def run_result(run: Path, record: dict) -> dict:
    """What every result JSON says of one run: its folder, frames, training time, the 20-game
    evaluation `record` (its figures), the frames where it was resumed and every setting its
    config.json records."""
    from kungfu_rl.runs.files import read_config, resumed_at

    return {
        "run": str(run),
        "frames": record["frames"],
        "train_wall_s": train_seconds(run / "metrics.csv"),
        "eval": {k: record[k] for k in ("mean", "median", "min", "max", "scores", "seed")},
        "resumed_at_frames": resumed_at(run),
        "config": dataclasses.asdict(read_config(run)),
    }


def differ_from_runs(planned: dict, runs: list[Path]) -> str:
    """'' when each run folder's config.json learned with the `planned` settings, else the
    first setting that differs (`settings_that_differ`); SystemExit in one line when
    a config.json is damaged."""
    from kungfu_rl.config import ConfigError
    from kungfu_rl.runs.files import read_config

    try:
        configs = [dataclasses.asdict(read_config(run)) for run in runs]
    except ConfigError as e:
        raise SystemExit(str(e)) from None
    return settings_that_differ([planned, *configs])


# -- the one JSON writer -----------------------------------------------------------------------


def load() -> str:
    """The load average, as the result JSONs record it around a run: '0.52 1.10 1.31'."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
    leaves out the `generated` files: those the script rewrites on every run (its own JSON
    written again), which would otherwise mark the next run's tree dirty."""
    from kungfu_rl.runtime.versions import versions  # here: importing this module stays light

    commit = git_output(ROOT, "rev-parse", "--short", "HEAD")
    left_out = [f":(exclude){Path(p).resolve().relative_to(ROOT.resolve())}" for p in generated]
    status = (
        git_output(ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".", *left_out)
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
