"""The Atari suite: train each game under the ALE v5 protocol, score it, write its JSON.

    python benchmarks/suite.py --tag long -- --preset long           # the 40M table: 7 games
    python benchmarks/suite.py --games Pong                        # 40M frames at the defaults
    python benchmarks/suite.py --games Pong Breakout --frames 10_000_000
    python benchmarks/suite.py --tag clip --games Pong -- --reward-mode clip
    python benchmarks/suite.py --tag long --games KungFuMaster --adopt runs/long-seed1 \
        --seed 1 -- --preset long                        # a run trained elsewhere, same settings
    python benchmarks/suite.py --tag atari --games Pong --frames 40_000_000 \
        --extend runs/suite-atari-Pong-10M-seed0 -- --preset atari   # that 10M run, trained on

Each game is one `kungfu train --game G --frames F --seed S [extra flags]` (run folder
`<runs-dir>/suite-<tag>-<G>-<F>-seed<S>`; the protocol is the package's: ALE v5, sticky
actions 0.25, the v5 action set, a 108,000-frame cut-off), then `kungfu eval RUN --games 20`
on its final checkpoint (raw score, all lives). A finished run folder is scored again, not
retrained; an unfinished one stops the script (`kungfu train --resume` it first). With
`--extend RUN`, a finished run of the same settings for fewer frames is copied into the
run folder (less its final evaluation) and trained on to `--frames` by `kungfu train
--resume`; run again after a stop, the same command resumes the copy. That is the run a
straight `--frames` run would be only where the learning rate does not fall to 0 at RUN's
own budget (a constant rate, or `--lr-decay-frames` at least `--frames`): the script
refuses any other.

One JSON per run, `benchmarks/results/suite/<tag>-<G>-<F>-seed<S>.json`: game, seed,
frames, the run's wall time, the 20-game mean/median/min/max, the mean of the last 100
training games, the training curve, the config and the command; `runner.write_report` adds
the machine, its load and the commit. The script writes nothing else: docs/suite.md, README's
suite table and the table `kungfu games` reads are built from these JSONs by the renderers
(`make render`; `make measured-games` for the last).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import protocol
from benchmarks.protocol import GAMES, ROOT, flags_over_defaults, planned_config, settings_flags
from benchmarks.runner import (
    EVAL_GAMES,
    as_typed,
    differ_from_runs,
    evaluated,
    finished,
    kungfu,
    load,
    moving_means,
    refuse_unfinished,
    run_result,
    start_training,
    write_report,
)

RESULTS = protocol.SUITE_RESULTS
"""Where this script writes: one JSON per run."""
SCORE_RESULTS = protocol.RESULTS
"""Where `benchmarks/score.py` writes score-TAG.json, which names each run folder it trained."""
CURVE_POINTS = 200  # rows of the training curve kept in each JSON


SCRIPT_FLAGS = {"--game", "--frames", "--seed", "--runs-dir", "--run-name", "--resume"}
"""`kungfu train` flags the script sets itself (the run folder's name says them)."""


def short_frames(frames: int) -> str:
    return f"{frames / 1e6:g}M"


def run_name(tag: str, game: str, frames: int, seed: int) -> str:
    return f"suite-{tag}-{game}-{short_frames(frames)}-seed{seed}"


def settings_differ(run: Path, game: str, frames: int, args: argparse.Namespace) -> str:
    """'' when the run folder `run` learned `game` for `frames` frames from seed `args.seed`
    with the settings `args.train_args` give, else the first setting that differs."""
    from kungfu_rl.runs.files import read_config

    planned = planned_config(
        ["--game", game, "--frames", str(frames), "--seed", str(args.seed), *args.train_args]
    )
    differ = differ_from_runs(planned, [run])
    seed = read_config(run).seed
    return f"seed: {seed}, {args.seed}" if seed != args.seed else differ


def check_adopted(run: Path, game: str, args: argparse.Namespace) -> None:
    """SystemExit unless the finished run folder `run` learned `game` for `args.frames`
    frames from seed `args.seed` with the settings `args.train_args` give."""
    differ = settings_differ(run, game, args.frames, args)
    if differ:
        raise SystemExit(f"--adopt {run} was trained with other settings ({differ})")


def check_same_settings(out: Path, game: str, args: argparse.Namespace) -> None:
    """SystemExit where the JSON `out` holds a run that learned with other settings than
    these (a tag, `defaults` say, whose settings have moved since): its figure stays."""
    try:
        recorded = json.loads(out.read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # none yet, or not one this script wrote: it is written anew
    planned = planned_config(["--game", game, *args.train_args])
    if flags_over_defaults(recorded) != flags_over_defaults(planned):
        raise SystemExit(
            f"{out} holds a run with other settings "
            f"({flags_over_defaults(recorded) or 'the defaults'}): name these with another --tag"
        )


def trained_by(run: Path) -> str | None:
    """The score-*.json (a path from the repository's root) whose results name the run folder
    `run`: its note says how that run was trained (alone, or beside which others)."""
    for path in sorted(SCORE_RESULTS.glob("score-*.json")):
        try:
            results = json.loads(path.read_text()).get("results", [])
            runs = [Path(r["run"]) for r in results]
        except (OSError, ValueError, AttributeError, TypeError, KeyError):
            continue  # not a score JSON this script can read: it names no run
        if any((ROOT / r).resolve() == run.resolve() for r in runs):
            return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    return None


def check_extendable(base: Path, game: str, args: argparse.Namespace) -> None:
    """SystemExit unless `base` is a finished run of `game` from seed `args.seed` with the
    settings `args.train_args` give, for fewer frames than `args.frames`, whose learning
    rate still follows the schedule of an `args.frames` run."""
    from kungfu_rl.runs.files import read_config

    if not finished(base):
        raise SystemExit(f"--extend {base}: no finished run there (no eval-final-*.json)")
    ran = read_config(base)
    if ran.frames >= args.frames:
        raise SystemExit(
            f"--extend {base}: it trained {ran.frames:,} frames, not fewer than --frames "
            f"{args.frames:,}"
        )
    differ = settings_differ(base, game, ran.frames, args)
    if differ:
        raise SystemExit(f"--extend {base} was trained with other settings ({differ})")
    longer = dataclasses.replace(ran, frames=args.frames)
    if ran.lr_at(ran.frames // 2) != longer.lr_at(ran.frames // 2):
        raise SystemExit(
            f"--extend {base}: its learning rate fell to 0 at its own {ran.frames:,} frames, "
            "so a longer run is not it trained on (give such runs --lr-decay-frames)"
        )


def extend(base: Path, run: Path, args: argparse.Namespace) -> None:
    """Copy the finished run `base` to `run` (unless a copy is there) and train it on to
    `args.frames`; again after a stop, the same resumes the copy."""
    if not run.exists():
        # the copy's final evaluation is the longer run's to write
        shutil.copytree(base, run, ignore=shutil.ignore_patterns("eval-final-*", "final-*"))
    cmd = kungfu("train", "--resume", str(run), "--frames", str(args.frames), "--no-progress")
    log = run.parent / f"{run.name}.log"
    code = start_training(cmd, log, append=True).wait()
    if code != 0:
        raise SystemExit(f"training {run} on exited with code {code}; see {log}")


def split_resumes(resumes: list[int], base_resumes: list[int]) -> dict:
    """An extended run's resumes (`resumes`, frames) told apart: its copied config.json
    holds the shorter run's (`base_resumes`), then the sitting that trained the copy on (where
    it was extended, not where it stopped), then the copy's own."""
    n = len(base_resumes)
    return {
        "extended_at_frames": resumes[n] if len(resumes) > n else None,
        "resumed_at_frames": resumes[:n] + resumes[n + 1 :],
    }


def train_and_score(args: argparse.Namespace, game: str) -> Path:
    """Train `game` unless its run folder finished, evaluate it, write its JSON. With
    `args.adopt`, that finished folder (trained by another script with the same settings)
    is the run, and its command is the one that would have trained it here; with
    `args.extend`, the run is that shorter run's copy trained on, and its command the one
    that would have trained it straight through."""
    name = run_name(args.tag, game, args.frames, args.seed)  # an adopted folder's own name aside
    run = args.adopt or args.runs_dir / name
    out = RESULTS / f"{name.removeprefix('suite-')}.json"
    check_same_settings(out, game, args)
    load_before = load()
    if args.extend and not finished(run):
        check_extendable(args.extend, game, args)
        extend(args.extend, run, args)
    done = finished(run)
    if args.adopt:
        if not done:
            raise SystemExit(f"--adopt {run}: no finished run there (no eval-final-*.json)")
        check_adopted(run, game, args)
    refuse_unfinished(run)
    train_cmd = kungfu(
        "train",
        "--game",
        game,
        "--frames",
        str(args.frames),
        "--seed",
        str(args.seed),
        "--runs-dir",
        str(run.parent),
        "--run-name",
        run.name,
        "--no-progress",
        *args.train_args,
    )
    if not done:
        log = args.runs_dir / f"{run.name}.log"
        code = start_training(train_cmd, log).wait()
        if code != 0:
            raise SystemExit(f"training {game} exited with code {code}; see {log}")
    record = evaluated(run, EVAL_GAMES)
    curve = moving_means(run / "metrics.csv")
    step = max(1, len(curve) // CURVE_POINTS)
    result = run_result(run, record)  # run, frames, train_wall_s, eval, config
    report = {
        "tag": args.tag,
        "game": game,
        "seed": args.seed,
        "frames": result["frames"],
        "train_wall_s": result["train_wall_s"],
        "eval": result["eval"],
        "last_100_training_mean": curve[-1]["mean"] if curve else None,
        "curve": [{k: r[k] for k in ("frames", "minutes", "mean")} for r in curve[::step]],
        "run": result["run"],
        "resumed_at_frames": result["resumed_at_frames"],
        "command": as_typed(train_cmd),
        "suite_command": " ".join(["python benchmarks/suite.py", *sys.argv[1:]]),
        "adopted": args.adopt is not None,
        "config": result["config"],
        "load_before": load_before,
        "load_after": load(),
    }
    if args.extend:  # its first frames were trained as that run; the loads are this sitting's
        from kungfu_rl.runs.files import resumed_at

        report["extended_from"] = str(args.extend)
        report.update(split_resumes(result["resumed_at_frames"], resumed_at(args.extend)))
    if args.adopt:  # the loads around its training are not known here
        report["load_before"] = report["load_after"] = "not known (adopted)"
        report["trained_by"] = trained_by(run)
    write_report(report, out)
    print(f"{game}: 20-game mean {record['mean']:,.1f}; wrote {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", nargs="+", default=list(GAMES), metavar="GAME")
    parser.add_argument("--frames", type=float, default=40_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="defaults", help="names the settings (extra flags)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument(
        "--adopt",
        type=Path,
        metavar="RUN",
        help="score this finished run folder (one game; the same settings) instead of training",
    )
    parser.add_argument(
        "--extend",
        type=Path,
        metavar="RUN",
        help="train this finished shorter run of the same settings on to --frames (one game)",
    )
    parser.add_argument("train_args", nargs="*", help="extra `kungfu train` flags, after --")
    args = parser.parse_args()
    args.frames = int(args.frames)
    owned = [a for a in args.train_args if a.split("=")[0] in SCRIPT_FLAGS]
    if owned:
        parser.error(f"{' '.join(owned)}: give it before --, so the run's name and JSON say it")
    changing = settings_flags(args.train_args)
    if args.tag == "defaults" and changing:
        parser.error(f"{' '.join(changing)} change the settings: name them with --tag")
    for option in ("adopt", "extend"):
        if getattr(args, option) and len(args.games) != 1:
            parser.error(f"--{option} takes one run folder: name its game alone with --games")
    if args.adopt and args.extend:
        parser.error("--adopt scores a finished run, --extend trains one on: give one of them")
    for game in args.games:
        train_and_score(args, game)
    print("the pages built from these JSONs: `make render`", flush=True)


if __name__ == "__main__":
    main()
