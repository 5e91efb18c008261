"""The conv stack in fp32 and in bf16 (autocast): speed of its two jobs, and how far apart.

    python benchmarks/precision.py --rounds 5 --out benchmarks/results/precision.json

On real Kung-Fu frames (32 games played at random), alternating the two precisions in
`--rounds` rounds so both see the same machine load:
- acting: `RecurrentAgent.step` on one half-pool's frames (16) and on all 32, one torch
  thread, as the pool calls it (ms per call);
- replay: `encode` forward and backward on one rollout's 32 × 20 = 640 frames, the
  update's torch threads (ms per call);
- deviation: the bf16 features' and logits' largest difference from fp32's, relative to
  fp32's largest magnitude (same weights).
Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from bench_report import write_report

from kungfu_rl import EnvPool, RecurrentAgent, make_env
from kungfu_rl.config import Config
from kungfu_rl.trainer import native_bf16

PRECISIONS = ("fp32", "bf16")


def ms_per_call(fn: Callable[[], object], seconds: float) -> float:
    fn()  # warm-up
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return 1e3 * (time.perf_counter() - start) / calls


def replay(agent: RecurrentAgent, frames: torch.Tensor) -> None:
    agent.zero_grad(set_to_none=True)
    agent.encode(frames).sum().backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/precision.json"))
    args = parser.parse_args()
    c = Config()
    torch.manual_seed(0)
    agents = {p: RecurrentAgent(precision=p) for p in PRECISIONS}
    agents["bf16"].load_state_dict(agents["fp32"].state_dict())
    pool = EnvPool(agents["fp32"], make_env, c.n_games, seed=0, env_threads=1)
    rollout = pool.play(c.rollout_len + 1)
    pool.close()
    obs = torch.from_numpy(rollout.observations[:, : c.rollout_len].copy())  # [B, T, 1, 42, 42]
    frames = obs.reshape(-1, *obs.shape[2:])  # [640, 1, 42, 42]
    update_threads = c.torch_threads or os.cpu_count() or 1

    jobs = {
        "acting 16 frames, 1 thread": (1, lambda a: a.step(a.get_initial_state(16), obs[:16, 0])),
        "acting 32 frames, 1 thread": (1, lambda a: a.step(a.get_initial_state(32), obs[:, 0])),
        f"replay fwd+bwd 640 frames, {update_threads} threads": (
            update_threads,
            lambda a: replay(a, frames),
        ),
    }
    ms: dict[str, dict[str, list[float]]] = {job: {p: [] for p in PRECISIONS} for job in jobs}
    for _ in range(args.rounds):
        for job, (threads, fn) in jobs.items():
            torch.set_num_threads(threads)
            for p, agent in agents.items():
                ms[job][p].append(ms_per_call(lambda fn=fn, agent=agent: fn(agent), args.seconds))

    with torch.no_grad():
        out = {  # features [640, hidden], logits [640, actions] from zero memory
            p: (a.encode(frames), a.step(a.get_initial_state(len(frames)), frames)[1][0])
            for p, a in agents.items()
        }
    deviation = {
        name: float((out["bf16"][i] - out["fp32"][i]).abs().max() / out["fp32"][i].abs().max())
        for i, name in enumerate(("features", "logits"))
    }

    medians = {job: {p: statistics.median(v) for p, v in by_p.items()} for job, by_p in ms.items()}
    native = native_bf16(torch.device("cpu"))
    print(f"conv stack, fp32 against bf16 (native bf16 on this CPU: {native})")
    for job, m in medians.items():
        print(f"  {job:40s} {m['fp32']:7.2f} ms  {m['bf16']:7.2f} ms  ×{m['fp32'] / m['bf16']:.2f}")
    for name, d in deviation.items():
        print(f"  bf16 {name} differ from fp32 by at most {d:.2%} of their largest magnitude")
    report = {
        "median_ms": medians,
        "rounds_ms": ms,
        "speedup": {job: m["fp32"] / m["bf16"] for job, m in medians.items()},
        "relative_deviation": deviation,
        "native_bf16": native,
        "rounds": args.rounds,
        "seconds": args.seconds,
    }
    write_report(report, args.out)


if __name__ == "__main__":
    main()
