"""Data-parallel scaling: training frames/s with 1 process and with N processes (torchrun).

    python benchmarks/scaling.py --frames 600_000 --out benchmarks/results/scaling.json

Each setting trains Kung-Fu Master with the default settings for `--frames` frames (no
evaluation) and reads the frames/s that the run's metrics.csv logged (the training loop's
own figure, start-up excluded), and the wall time. In the N-process runs every process
plays `--n-games` games, so the global batch grows with N, as it would on N machines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import kungfu, steady_rate, write_report


def train(processes: int, frames: int, n_games: int, threads: int, runs: Path) -> dict:
    name = f"p{processes}"
    flags = [
        "train",
        "--frames",
        str(frames),
        "--n-games",
        str(n_games),
        "--eval-every",
        "0",
        "--runs-dir",
        str(runs),
        "--run-name",
        name,
        "--no-progress",
        "--torch-threads",
        str(threads),
        "--env-threads",
        str(threads),
    ]
    if processes == 1:
        cmd = kungfu(*flags)
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            str(processes),
            "-m",
            "kungfu_rl",
            *flags,
        ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return {
        "processes": processes,
        "games_per_process": n_games,
        "threads_per_process": threads,
        "frames": frames,
        "frames_per_s": steady_rate(runs / name / "metrics.csv"),
        "wall_s": wall,
        "command": " ".join(cmd[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600_000)
    parser.add_argument("--n-games", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scaling.json"))
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    runs = Path(tempfile.mkdtemp(prefix="kungfu-scaling-"))
    rows = [
        train(1, args.frames, args.n_games, cores, runs),
        train(args.processes, args.frames, args.n_games, max(1, cores // args.processes), runs),
    ]
    base = rows[0]["frames_per_s"]
    for row in rows:
        row["speedup"] = row["frames_per_s"] / base
        print(
            f"{row['processes']} process(es) × {row['games_per_process']} games, "
            f"{row['threads_per_process']} threads each: {row['frames_per_s']:,.0f} frames/s "
            f"(×{row['speedup']:.2f}), wall {row['wall_s']:.0f} s"
        )
    report = {"rows": rows, "cores": cores}
    write_report(report, args.out)


if __name__ == "__main__":
    main()
