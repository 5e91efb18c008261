"""What keeping freed memory (kungfu_rl.allocator) does to one update: time, page faults, RSS.

    python benchmarks/allocator.py --rounds 3 --out benchmarks/results/allocator.json

Runs `train_on_rollout` on a default-sized rollout (32 games × 21 observations of random
pixels: the cost does not depend on the pixels) in child processes, alternately with and
without `keep_freed_memory()`, `--rounds` times each, so both see the same machine load.
Each child warms up, then times `--updates` updates. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench_report import write_report

CHILD = """
import json, os, resource, sys, time
import numpy as np, torch
from kungfu_rl import RecurrentAgent
from kungfu_rl.allocator import keep_freed_memory
from kungfu_rl.config import Config
from kungfu_rl.update import train_on_rollout
applied = keep_freed_memory() if sys.argv[1] == "on" else False
updates = int(sys.argv[2])
c = Config()
torch.set_num_threads(os.cpu_count() or 1)
agent = RecurrentAgent()
optimizer = torch.optim.Adam(agent.parameters(), lr=c.lr)
rng = np.random.default_rng(0)
B, T = c.n_games, c.rollout_len + 1
rollout = (
    rng.integers(0, 256, (B, T, 1, 42, 42), dtype=np.uint8),
    rng.integers(0, 14, (B, T)),
    rng.random((B, T), dtype=np.float32),
    np.ones((B, T), np.float32),
    agent.get_initial_state(B),
)
for _ in range(5):
    train_on_rollout(agent, optimizer, *rollout, **c.update_settings())
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
start = time.perf_counter()
for _ in range(updates):
    train_on_rollout(agent, optimizer, *rollout, **c.update_settings())
wall = time.perf_counter() - start
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"applied": applied, "ms_per_update": 1e3 * wall / updates,
                  "page_faults_per_update": faults / updates, "peak_rss_mib": peak}))
"""


def child(mode: str, updates: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(updates)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/allocator.json"))
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for _ in range(args.rounds):
        for mode in runs:
            runs[mode].append(child(mode, args.updates))
    summary = {
        mode: {
            key: statistics.median(r[key] for r in rs)
            for key in ("ms_per_update", "page_faults_per_update", "peak_rss_mib")
        }
        for mode, rs in runs.items()
    }
    for mode, s in summary.items():
        label = "keep_freed_memory()" if mode == "on" else "glibc defaults    "
        print(
            f"{label}  {s['ms_per_update']:6.1f} ms/update  "
            f"{s['page_faults_per_update']:8,.0f} page faults/update  "
            f"peak RSS {s['peak_rss_mib']:5.0f} MiB   (median of {args.rounds})"
        )
    speedup = summary["off"]["ms_per_update"] / summary["on"]["ms_per_update"]
    print(f"update ×{speedup:.2f} faster")
    report = {
        "summary": summary,
        "speedup": speedup,
        "runs": runs,
        "updates": args.updates,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
