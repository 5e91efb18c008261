"""Training iterations of the trainer's variants, alternated in one process.

    python benchmarks/iteration_ab.py --rounds 8 --out benchmarks/results/iteration_ab.json

Builds one default Trainer for each of overlap on/off × the conv stack in fp32/bf16, then
runs `--iterations` iterations of each variant in turn, `--rounds` times, so all see the
same machine load: `Trainer.iterate` (the replay runs the conv stack on all frames at
once), and for two of them `iterate(keep_features=True)` (the update reuses the conv
features computed while acting). Reports the median agent steps/s of each. Prints a
table, writes JSON.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_report import write_report

from kungfu_rl.config import Config
from kungfu_rl.trainer import Trainer, pick_device, pick_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=8, help="per variant and round")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/iteration_ab.json"))
    args = parser.parse_args()
    default = Config()
    default_key = (default.overlap, pick_precision(default.precision, pick_device(default.device)))
    trainers = {
        (overlap, precision): Trainer(
            Config(eval_every=0, progress=False, overlap=overlap, precision=precision).validate(),
            Path(tempfile.mkdtemp(prefix="kungfu-ab-")),
        )
        for overlap in (False, True)
        for precision in ("fp32", "bf16")
    }
    variants: dict[str, Callable[[], object]] = {}
    for (overlap, precision), trainer in trainers.items():
        name = f"{'overlap' if overlap else 'sequential'}, {precision}"
        if (overlap, precision) == default_key:
            name += " (default)"
        variants[f"{name}, conv replayed"] = trainer.iterate
    for key in ((False, "fp32"), (True, "bf16")):
        name = f"{'overlap' if key[0] else 'sequential'}, {key[1]}, features reused"
        variants[name] = functools.partial(trainers[key].iterate, keep_features=True)
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
        print(f"  {name:48s} {rate:7,.0f} steps/s  (median of {args.rounds} rounds)")
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
