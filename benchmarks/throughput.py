"""Throughput against the emulator's limit, measured in one run of this script.

    python benchmarks/throughput.py --seconds 30 --out benchmarks/results/throughput.json
    python benchmarks/throughput.py --sweep --seconds 8 --out SWEEP_JSON
    python benchmarks/throughput.py --baseline REV --seconds 30 --out BASELINE_JSON
    python benchmarks/throughput.py --versus "--frame-size 84" --seconds 30 --out VERSUS_JSON
    python benchmarks/throughput.py --baseline REV --game Seaquest --seconds 30 --out JSON
(SWEEP_JSON: benchmarks/results/throughput_sweep.json. --sweep adds games × threads
settings and draws them as a PNG next to the JSON; `python benchmarks/render/throughput_sweep.py
SWEEP_JSON` redraws it from the JSON alone.)

(a) raw: ale-py's AtariVectorEnv with random actions, the trainer's games and emulator
    threads, crop and resize included;
(a2) pipelined raw: the same games as two vector envs of half the games (each with those
    threads) stepped in turn, one emulating while the other's frames are cropped: the
    overlap pool's layout with random actions, a stronger emulator limit;
(b) acting: EnvPool.play with the agent's forward pass and the trainer's pool settings,
    no learning;
(c) training: `kungfu train` with the default settings (evaluation off), its own frames/s;
(d) the training process's peak resident memory.
Agent steps/s throughout (frames/s = 4 × steps/s).
The emulator's speed on this shared machine drifts by ±15 % within minutes, so each
ratio compares measurements taken side by side: (a), (a2) and (b) alternate in short
rounds, and (c) is bracketed by (a) and (a2) measured just before and after it.
Variants: overlap flipped, and the conv stack in the other precision.
--baseline REV measures only (c), this tree's `kungfu train` against git revision REV's
(its src/ unpacked to a temporary folder), alternating, three runs each, and reports the
ratio of the medians: the check that a change kept training's speed. --versus FLAGS does the
same for this tree with FLAGS added against this tree at the defaults: what a setting costs.
Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.render.throughput_sweep import plot_sweep
from benchmarks.runner import kungfu, steady_rate, write_report
from kungfu_rl import EnvPool, RecurrentAgent, make_env
from kungfu_rl.config import Config
from kungfu_rl.envs.preprocessing import preprocess
from kungfu_rl.envs.vector import atari_vector_env
from kungfu_rl.runs.loading import game_settings
from kungfu_rl.runtime.allocator import keep_freed_memory
from kungfu_rl.runtime.machine import pick_device, pick_precision

ROUNDS = 6
"""(a), (a2) and (b) alternate this many times."""


class RawGames:
    """The trainer's games stepped with random actions, frames cropped and resized.

    (a): `halves=1`, one vector env with all the games. (a2): `halves=2`, two vector envs
    of half the games each (each with `env_threads`), stepped in turn as the overlap pool
    steps them: one emulates while the other's frames are cropped.
    """

    def __init__(self, n_games: int, env_threads: int, halves: int = 1):
        self.settings = game_settings(Config())
        self.sizes = [n_games // 2, n_games - n_games // 2] if halves == 2 else [n_games]
        self.envs = [atari_vector_env(self.settings, n, env_threads) for n in self.sizes]
        for half, env in enumerate(self.envs):
            env.reset(seed=half * n_games)
        self.rng = np.random.default_rng(0)

    def steps_and_seconds(self, seconds: float) -> tuple[int, float]:
        steps, start = 0, time.perf_counter()
        for env, n in zip(self.envs, self.sizes, strict=True):
            env.send(self.rng.integers(0, 14, n))
        while time.perf_counter() - start < seconds:
            for env, n in zip(self.envs, self.sizes, strict=True):
                frames, *_ = env.recv()  # with two halves, the other one emulates meanwhile
                preprocess(frames[:, 0], self.settings.crop)
                env.send(self.rng.integers(0, 14, n))
                steps += n
        for env, n in zip(self.envs, self.sizes, strict=True):
            env.recv()  # the steps in flight count: their time is in the wall time
            steps += n
        return steps, time.perf_counter() - start

    def rate(self, seconds: float) -> float:
        steps, wall = self.steps_and_seconds(seconds)
        return steps / wall

    def close(self) -> None:
        for env in self.envs:
            env.close()


class Acting:
    """(b): EnvPool.play as the trainer sets it up, without the update."""

    def __init__(
        self, n_games: int, env_threads: int, acting_threads: int, overlap: bool, precision: str
    ):
        device = pick_device(Config().device)  # as `kungfu train` picks it
        precision = pick_precision(precision, device)
        self.pool = EnvPool(
            RecurrentAgent(precision=precision).to(device),
            make_env,
            n_games,
            seed=0,
            env_threads=env_threads,
            overlap=overlap,
            acting_threads=acting_threads,
        )
        self.rollout_len = Config().rollout_len
        self.pool.play(self.rollout_len + 1)  # warm-up

    def steps_and_seconds(self, seconds: float) -> tuple[int, float]:
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            self.pool.play(self.rollout_len + 1)
            steps += self.rollout_len * self.pool.n_games
        return steps, time.perf_counter() - start


def training(
    n_games: int,
    env_threads: int,
    torch_threads: int,
    acting_threads: int,
    seconds: float,
    overlap: bool,
    precision: str,
    src: Path | None = None,
    extra: tuple[str, ...] = (),
    game: str | None = None,
) -> dict:
    """`kungfu train` in a child process; its logged frames/s and its peak memory.

    `src`: run the package found there (another revision's src/) instead of this one;
    `extra`: more `kungfu train` flags; `game`: another game than the defaults' Kung-Fu.
    """
    c = Config()
    updates = max(40, int(seconds * 2500 / (n_games * c.rollout_len)))
    runs = tempfile.mkdtemp(prefix="kungfu-throughput-")
    cmd = kungfu(
        "train",
        "--frames",
        str(updates * n_games * c.rollout_len * c.frameskip),
        "--n-games",
        str(n_games),
        "--eval-every",
        "0",
        "--log-every",
        "5",
        "--runs-dir",
        runs,
        "--run-name",
        "t",
        "--no-progress",
        "--torch-threads",
        str(torch_threads),
        "--acting-threads",
        str(acting_threads),
        "--env-threads",
        str(env_threads),
        "--overlap" if overlap else "--no-overlap",
        "--precision",
        precision,
        *(("--game", game) if game else ()),
        # the defaults' agent on every game, as at any revision (not the game's own preset)
        *(("--preset", "none") if game and "--preset" not in extra else ()),
        *extra,
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    env = {**os.environ, "PYTHONPATH": str(src)} if src else None
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "steps_per_s": steady_rate(Path(runs) / "t" / "metrics.csv") / c.frameskip,
        "peak_rss_mib": max(peak_kib, before) / 1024,
        "command": " ".join(cmd[1:]),
    }


def measure(
    n_games: int,
    env_threads: int,
    torch_threads: int,
    seconds: float,
    overlap: bool,
    acting_threads: int = 1,
    precision: str = "auto",
) -> dict:
    """(a), (a2), (b), (c), (d) for one setting; `seconds` of each of them."""
    raw = RawGames(n_games, env_threads)
    pipelined = RawGames(n_games, env_threads, halves=2)
    act = Acting(n_games, env_threads, acting_threads, overlap, precision)
    totals = np.zeros((3, 2))  # [raw, pipelined raw, acting] × [steps, seconds]
    for _ in range(ROUNDS):
        totals[0] += raw.steps_and_seconds(seconds / ROUNDS)
        totals[1] += pipelined.steps_and_seconds(seconds / ROUNDS)
        totals[2] += act.steps_and_seconds(seconds / ROUNDS)
    act.pool.close()
    a, a2, b = totals[:, 0] / totals[:, 1]
    before = raw.rate(seconds / 4), pipelined.rate(seconds / 4)
    c = training(n_games, env_threads, torch_threads, acting_threads, seconds, overlap, precision)
    a_c = (before[0] + raw.rate(seconds / 4)) / 2
    a2_c = (before[1] + pipelined.rate(seconds / 4)) / 2
    raw.close()
    pipelined.close()
    return {
        "overlap": overlap,
        "n_games": n_games,
        "env_threads": env_threads,
        "torch_threads": torch_threads,
        "acting_threads": acting_threads,
        "precision": precision,
        "raw_steps_per_s": a,
        "pipelined_raw_steps_per_s": a2,
        "acting_steps_per_s": b,
        "raw_around_training_steps_per_s": a_c,
        "pipelined_raw_around_training_steps_per_s": a2_c,
        "training_steps_per_s": c["steps_per_s"],
        "acting_over_raw": b / a,
        "training_over_raw": c["steps_per_s"] / a_c,
        "acting_over_pipelined_raw": b / a2,
        "training_over_pipelined_raw": c["steps_per_s"] / a2_c,
        "training_peak_rss_mib": c["peak_rss_mib"],
        "training_command": c["command"],
    }


def alternate(
    arms: dict[str, dict], seconds: float, settings: dict, ratio_of: tuple[str, str]
) -> dict:
    """Training steps/s of each arm ({name: `training` keywords}), in turn, 3 runs each;
    the medians, and the ratio of arm ratio_of[0]'s median to arm ratio_of[1]'s."""
    runs: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(3):
        for name, kw in arms.items():
            r = training(**settings, seconds=seconds, **kw)
            runs[name].append(r["steps_per_s"])
            print(f"  {name:>20}: training {r['steps_per_s']:,.0f} steps/s")
    medians = {name: statistics.median(v) for name, v in runs.items()}
    top, bottom = ratio_of
    ratio = medians[top] / medians[bottom]
    print(f"{top} / {bottom} = {ratio:.3f} (medians {medians[top]:,.0f} / {medians[bottom]:,.0f})")
    return {"runs": runs, "medians": medians, "ratio": ratio, **settings}


def against_baseline(rev: str, seconds: float, settings: dict) -> dict:
    """Training steps/s of this tree and of revision `rev`, alternating, 3 runs each."""
    old_src = Path(tempfile.mkdtemp(prefix="kungfu-baseline-"))
    archive = subprocess.run(["git", "archive", rev, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(old_src)], input=archive.stdout, check=True)
    arms = {"current": {}, rev: {"src": old_src / "src"}}
    return {"baseline": rev, **alternate(arms, seconds, settings, ("current", rev))}


def against_flags(flags: str, seconds: float, settings: dict) -> dict:
    """Training steps/s at the defaults and with `flags` added, alternating, 3 runs each."""
    arms = {"defaults": {"extra": ()}, flags: {"extra": tuple(shlex.split(flags))}}
    return {"versus": flags, **alternate(arms, seconds, settings, (flags, "defaults"))}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The script's options. `--versus FLAGS` takes its value even when FLAGS is a single
    flag such as `--max-pool`, which argparse would otherwise read as an option of its own."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv[:-1]):
        if arg == "--versus":
            argv[i : i + 2] = [f"--versus={argv[i + 1]}"]
            break
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="per measurement")
    parser.add_argument("--sweep", action="store_true", help="also sweep games and threads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/throughput.json"))
    parser.add_argument("--baseline", metavar="REV", help="compare training with revision REV")
    parser.add_argument(
        "--versus", metavar="FLAGS", help="compare training with FLAGS added to the defaults"
    )
    parser.add_argument(
        "--game", help="with --baseline or --versus: train this game (default: Kung-Fu)"
    )
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    keep_freed_memory()  # as `kungfu train` does
    cores = os.cpu_count() or 1
    c = Config()
    env_t, torch_t = c.env_threads or cores, c.torch_threads or cores
    acting_t = c.acting_threads or torch_t
    precision = pick_precision(c.precision, pick_device(c.device))
    if args.baseline or args.versus:
        settings = {
            "n_games": c.n_games,
            "env_threads": env_t,
            "torch_threads": torch_t,
            "acting_threads": acting_t,
            "overlap": c.overlap,
            "precision": precision,
            "game": args.game,
        }
        if args.versus:
            write_report(against_flags(args.versus, args.seconds, settings), args.out)
        else:
            write_report(against_baseline(args.baseline, args.seconds, settings), args.out)
        return
    default = measure(c.n_games, env_t, torch_t, args.seconds, c.overlap, acting_t, precision)
    print(
        f"defaults: {c.n_games} games, {env_t} emulator threads, {torch_t} torch threads for "
        f"the update, {acting_t} while acting ({cores} cores), overlap {c.overlap}, conv "
        f"stack in {precision}"
    )
    print(f"  (a)  raw vector env + crop/resize   {default['raw_steps_per_s']:8,.0f} steps/s")
    print(
        f"  (a2) the same as two pipelined halves {default['pipelined_raw_steps_per_s']:6,.0f}"
        " steps/s"
    )
    print(
        f"  (b)  acting (pool + forward)        {default['acting_steps_per_s']:8,.0f} steps/s"
        f"   b/a = {default['acting_over_raw']:.0%} (target >= 85 %), "
        f"b/a2 = {default['acting_over_pipelined_raw']:.0%}"
    )
    print(
        f"  (c)  training (kungfu train)        {default['training_steps_per_s']:8,.0f} steps/s"
        f"   c/a = {default['training_over_raw']:.0%} (target >= 60 %), "
        f"c/a2 = {default['training_over_pipelined_raw']:.0%}; around it a "
        f"{default['raw_around_training_steps_per_s']:,.0f}, a2 "
        f"{default['pipelined_raw_around_training_steps_per_s']:,.0f}"
    )
    print(
        f"  (d)  training peak resident memory  {default['training_peak_rss_mib']:8,.0f} MiB"
        f"     (target <= 1536 MiB)"
    )
    report = {"default": default, "cores": cores, "seconds": args.seconds}
    other_precision = "fp32" if precision == "bf16" else "bf16"
    for name, kwargs in (
        (f"overlap_{not c.overlap}", {"overlap": not c.overlap, "precision": precision}),
        (f"precision_{other_precision}", {"overlap": c.overlap, "precision": other_precision}),
    ):
        r = measure(c.n_games, env_t, torch_t, args.seconds, acting_threads=acting_t, **kwargs)
        report[name] = r
        print(
            f"  {name}: acting {r['acting_steps_per_s']:,.0f} ({r['acting_over_raw']:.0%} of a "
            f"{r['raw_steps_per_s']:,.0f}, {r['acting_over_pipelined_raw']:.0%} of a2), training "
            f"{r['training_steps_per_s']:,.0f} ({r['training_over_raw']:.0%} of a "
            f"{r['raw_around_training_steps_per_s']:,.0f}, "
            f"{r['training_over_pipelined_raw']:.0%} of a2)"
        )
    if args.sweep:
        rows = []
        for games in (8, 16, 32, 64):
            for env_t, torch_t in ((1, 1), (2, 1), (1, 2), (2, 2)):
                rows.append(
                    measure(games, env_t, torch_t, args.seconds, c.overlap, acting_t, precision)
                )
                r = rows[-1]
                print(
                    f"  sweep {games:3d} games, {env_t} env / {torch_t} torch threads: raw "
                    f"{r['raw_around_training_steps_per_s']:6,.0f}  training "
                    f"{r['training_steps_per_s']:6,.0f}  ({r['training_over_raw']:.0%})"
                )
        png = args.out.with_suffix(".png")
        plot_sweep(rows, png)
        report["sweep"] = rows
        print(f"wrote {png}")
    write_report(report, args.out)


if __name__ == "__main__":
    main()
