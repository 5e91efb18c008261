"""Where one training iteration's time goes, with the default settings.

    python benchmarks/profile_iteration.py --updates 40 --out benchmarks/results/profile.json

Runs `--updates` iterations of the trainer's loop (`Trainer.iterate`: play a rollout, then
one update) after a warm-up, once plain (steps/s) and once under cProfile, and splits the
profiled wall time into: emulator, preprocessing (crop + resize), acting forward (+
sampling), replay forward, backward, gradient clip + Adam, and the rest (Python, copies,
bookkeeping, and cProfile's own cost).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import write_report
from kungfu_rl.config import Config
from kungfu_rl.training.trainer import Trainer

# phase -> (file fragment, function names) of the calls whose cumulative time it is
PHASES = {
    # with overlap, only the time the loop waits for the emulator; its threads run meanwhile
    "waiting for the emulator (AtariVectorEnv.recv)": ("ale_py/vector_env.py", ("recv",)),
    "sending actions (AtariVectorEnv.send)": ("ale_py/vector_env.py", ("send",)),
    "preprocessing (crop + resize)": ("kungfu_rl/envs/preprocessing.py", ("preprocess",)),
    "acting forward": ("kungfu_rl/agent/networks.py", ("step",)),
    "action sampling": ("kungfu_rl/agent/networks.py", ("sample_actions",)),
    "replay forward (conv stack on all frames, LSTM, heads)": (
        "kungfu_rl/agent/networks.py",
        ("unroll",),
    ),
    "backward": ("torch/_tensor.py", ("backward",)),
    "gradient clip": ("torch/nn/utils/clip_grad.py", ("clip_grad_norm_",)),
    "Adam step": ("torch/optim/optimizer.py", ("wrapper",)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument(
        "--overlap", action=argparse.BooleanOptionalAction, default=Config().overlap
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/profile.json"))
    args = parser.parse_args()
    run_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"kungfu-profile-{os.getpid()}"
    run_dir.mkdir(parents=True)
    config = Config(eval_every=0, overlap=args.overlap).validate()
    trainer = Trainer(config, run_dir)
    for _ in range(5):
        trainer.iterate()  # warm-up
    start = time.perf_counter()
    for _ in range(args.updates):
        trainer.iterate()
    plain_wall = time.perf_counter() - start  # without the profiler's own cost
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(args.updates):
        trainer.iterate()
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    phases = {}
    for phase, (fragment, names) in PHASES.items():
        phases[phase] = sum(
            ct
            for (file, _, fn), (_, _, _, ct, _) in stats.items()
            if fn in names and fragment in file
        )
    phases["other (Python, copies, returns, loss)"] = wall - sum(phases.values())
    steps = args.updates * config.rollout_len * config.n_games
    print(
        f"{args.updates} iterations of {config.rollout_len * config.n_games} agent steps: "
        f"{steps / plain_wall:,.0f} steps/s, {steps / wall:,.0f} under cProfile "
        f"(torch threads {torch.get_num_threads()}, {config.acting_threads} while acting; "
        f"overlap {config.overlap}; conv stack in {trainer.agent.precision})"
    )
    for phase, seconds in phases.items():
        print(
            f"  {phase:56s} {seconds:7.2f} s  {seconds / wall:6.1%}  "
            f"{1e3 * seconds / args.updates:7.1f} ms/iteration"
        )
    report = {
        "updates": args.updates,
        "overlap": config.overlap,
        "precision": trainer.agent.precision,
        "agent_steps": steps,
        "steps_per_s_without_profiler": steps / plain_wall,
        "wall_s": wall,
        "phases_s": phases,
    }
    trainer.pool.close()
    write_report(report, args.out)


if __name__ == "__main__":
    main()
