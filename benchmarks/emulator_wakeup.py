"""How long the emulator's step takes after the main thread has worked, slept, or neither.

    python benchmarks/emulator_wakeup.py --steps 400 --out benchmarks/results/emulator_wakeup.json

Steps the trainer's AtariVectorEnv (32 games, 2 threads, random actions) with a gap between
steps: none; a sleep; a busy loop (what the network's forward pass looks like to the
emulator). Reports the mean send + recv time per step for each, twice in turn.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from bench_report import write_report

from kungfu_rl.config import Config
from kungfu_rl.pool import atari_vector_env

GAPS = [("none", 0.0, False), ("sleep 2 ms", 0.002, False), ("busy 2 ms", 0.002, True)]


def step_ms(env, rng: np.random.Generator, steps: int, gap: float, busy: bool) -> float:
    total = 0.0
    for _ in range(steps):
        actions = rng.integers(0, 14, env.num_envs)
        start = time.perf_counter()
        env.send(actions)
        env.recv()
        total += time.perf_counter() - start
        if busy:
            end = time.perf_counter() + gap
            while time.perf_counter() < end:
                pass
        elif gap:
            time.sleep(gap)
    return 1e3 * total / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/emulator_wakeup.json"))
    args = parser.parse_args()
    c = Config()
    env = atari_vector_env(c.game_settings, c.n_games, os.cpu_count() or 1)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    results: dict[str, list[float]] = {name: [] for name, *_ in GAPS}
    for _ in range(2):
        for name, gap, busy in GAPS:
            results[name].append(step_ms(env, rng, args.steps, gap, busy))
    env.close()
    for name, ms in results.items():
        print(f"  gap {name:12s} send + recv {np.mean(ms):5.2f} ms/step ({ms[0]:.2f}, {ms[1]:.2f})")
    report = {
        "ms_per_step": results,
        "steps": args.steps,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
