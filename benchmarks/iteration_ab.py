"""Training iterations of the pool variants, alternated in one process: overlap × feature reuse.

    python benchmarks/iteration_ab.py --rounds 6 --out benchmarks/results/iteration_ab.json

Builds one default Trainer with overlap and one without, then runs `--iterations`
iterations of each variant in turn, `--rounds` times, so all four see the same machine
load: `Trainer.iterate` (the update reuses the conv features computed while acting) and
the same iteration without the reuse (the replay runs the conv stack again). Reports the
median agent steps/s of each. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_report import write_report

from kungfu_rl.config import Config
from kungfu_rl.trainer import Trainer
from kungfu_rl.update import train_on_rollout


def without_reuse(trainer: Trainer) -> None:
    """`Trainer.iterate` with the replay running the conv stack itself."""
    c = trainer.config
    memory = tuple(m.clone() for m in trainer.pool.prev_memory_states)
    rollout = trainer.pool.play(c.rollout_len + 1)
    train_on_rollout(trainer.agent, trainer.optimizer, *rollout[:4], memory, **c.update_settings())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--iterations", type=int, default=8, help="per variant and round")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/iteration_ab.json"))
    args = parser.parse_args()
    trainers = {
        overlap: Trainer(
            Config(eval_every=0, progress=False, overlap=overlap).validate(),
            Path(tempfile.mkdtemp(prefix="kungfu-ab-")),
        )
        for overlap in (False, True)
    }
    variants: dict[str, Callable[[], object]] = {
        "sequential, features reused (default)": trainers[False].iterate,
        "sequential, conv replayed": lambda: without_reuse(trainers[False]),
        "overlap, features reused": trainers[True].iterate,
        "overlap, conv replayed": lambda: without_reuse(trainers[True]),
    }
    steps = Config().rollout_len * Config().n_games
    for run in variants.values():
        for _ in range(3):
            run()  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, run in variants.items():
            start = time.perf_counter()
            for _ in range(args.iterations):
                run()
            rates[name].append(args.iterations * steps / (time.perf_counter() - start))
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, rate in medians.items():
        print(f"  {name:40s} {rate:7,.0f} steps/s  (median of {args.rounds} rounds)")
    report = {
        "median_steps_per_s": medians,
        "rounds_steps_per_s": rates,
        "iterations": args.iterations,
    }
    for trainer in trainers.values():
        trainer.pool.close()
    write_report(report, args.out)


if __name__ == "__main__":
    main()
