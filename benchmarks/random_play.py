"""Random play on full games: the floor every trained agent's score is read against.

    python benchmarks/random_play.py --games 20 --out benchmarks/results/random_play.json

Plays uniformly random actions on `make_env()` (ALE v5 settings: sticky actions 0.25, all
lives, raw game score), prints mean/median/min/max and writes them as JSON.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.runner import write_report
from kungfu_rl.envs.atari import make_env
from kungfu_rl.play.evaluate import summarize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="KungFuMaster")
    parser.add_argument("--games", type=int, default=20)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/random_play.json"))
    args = parser.parse_args()

    env = make_env(args.game)
    env.action_space.seed(args.seed)
    scores, steps = [], 0
    start = time.perf_counter()
    for i in range(args.games):
        env.reset(seed=args.seed + i)
        score, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            score += reward
            steps += 1
            done = terminated or truncated
        scores.append(score)
    seconds = time.perf_counter() - start
    stats = summarize(scores)
    report = {
        "game": args.game,
        "policy": "uniform random",
        "games": args.games,
        "seed": args.seed,
        "scores": scores,
        **stats,
        "agent_steps": steps,
        "steps_per_s": steps / seconds,
    }
    print(
        f"{args.game}, random play, {args.games} full games: mean {stats['mean']:.1f}  "
        f"median {stats['median']:.1f}  min {stats['min']:.0f}  max {stats['max']:.0f}"
    )
    write_report(report, args.out)


if __name__ == "__main__":
    main()
