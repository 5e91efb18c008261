"""Where one training iteration's time goes, with the default settings.

    python benchmarks/profile_iteration.py --updates 60 --out benchmarks/results/profile.json

Runs `--updates` iterations of the trainer's loop (interact, then train_on_rollout) under
cProfile after a warm-up, and splits the wall time into: emulator, preprocessing (crop +
resize), acting forward (+ sampling), replay forward, backward, gradient clip + Adam, and
the rest (Python, copies, bookkeeping).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from pathlib import Path

import torch

from kungfu_rl.config import Config
from kungfu_rl.trainer import Trainer

# phase -> (file fragment, function name) of the calls whose cumulative time it is
PHASES = {
    # with overlap, only the time the loop waits for the emulator; its threads run meanwhile
    "waiting for the emulator (AtariVectorEnv.recv)": ("ale_py/vector_env.py", "recv"),
    "preprocessing (crop + resize)": ("kungfu_rl/envs.py", "preprocess"),
    "acting forward": ("kungfu_rl/agent.py", "step"),
    "action sampling": ("kungfu_rl/agent.py", "sample_actions"),
    "replay forward": ("kungfu_rl/agent.py", "unroll"),
    "backward": ("torch/_tensor.py", "backward"),
    "gradient clip": ("torch/nn/utils/clip_grad.py", "clip_grad_norm_"),
    "Adam step": ("torch/optim/optimizer.py", "wrapper"),
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
    config = Config(eval_every=0, progress=False, overlap=args.overlap).validate()
    trainer = Trainer(config, run_dir)
    hyper = config.update_settings()
    from kungfu_rl.update import train_on_rollout

    def iteration() -> None:
        memory = tuple(m.clone() for m in trainer.pool.prev_memory_states)
        rollout = trainer.pool.play(config.rollout_len + 1)
        ends = rollout.life_lost if config.cut_at_life_loss else None
        train_on_rollout(
            trainer.agent, trainer.optimizer, *rollout[:4], memory, value_ends=ends, **hyper
        )

    for _ in range(5):
        iteration()  # warm-up
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(args.updates):
        iteration()
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    phases = {}
    for phase, (fragment, name) in PHASES.items():
        phases[phase] = sum(
            ct
            for (file, _, fn), (_, _, _, ct, _) in stats.items()
            if fn == name and fragment in file
        )
    phases["other (Python, copies, returns, loss)"] = wall - sum(phases.values())
    steps = args.updates * config.rollout_len * config.n_games
    print(
        f"{args.updates} iterations, {steps:,} agent steps, {wall:.1f} s under cProfile "
        f"({steps / wall:,.0f} steps/s; torch threads {torch.get_num_threads()}, "
        f"overlap {config.overlap})"
    )
    for phase, seconds in phases.items():
        print(
            f"  {phase:40s} {seconds:7.2f} s  {seconds / wall:6.1%}  "
            f"{1e3 * seconds / args.updates:7.1f} ms/iteration"
        )
    report = {
        "updates": args.updates,
        "overlap": config.overlap,
        "agent_steps": steps,
        "wall_s": wall,
        "phases_s": phases,
        "load_average": os.getloadavg(),
        "torch": torch.__version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    trainer.pool.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
