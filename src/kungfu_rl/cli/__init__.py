"""The `kungfu` command line: train | eval | plot | games.

Mistakes in what a user typed print one line, `kungfu: error: ...`, and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from ..runs.loading import LoadedAgent

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def signal_name(signum: int) -> str:
    import signal

    return {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}.get(signum, f"signal {signum}")


class UsageError(Exception):
    """Bad user input: printed as one line, exit code 2."""


# flags as CleanRL and Stable-Baselines3 name them -> ours
PEER_FLAGS = {
    "--env-id": "--game",
    "--env": "--game",
    "--total-timesteps": "--frames (emulator frames: 4 × agent steps at frameskip 4)",
    "--num-envs": "--n-games",
    "--n-envs": "--n-games",
    "--num-steps": "--rollout-len",
    "--n-steps": "--rollout-len",
    "--learning-rate": "--lr",
    "--ent-coef": "--entropy-coef",
    "--vf-coef": "--value-coef",
    "--anneal-lr": "--lr-schedule linear",
    "--cuda": "--device cuda",
    "--exp-name": "--run-name",
    "--track": "(TensorBoard logs are always written: tensorboard --logdir runs)",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            words = [w.split("=")[0] for w in message.split(":", 1)[1].split()]
            hints = [f"{w} is {PEER_FLAGS[w]} here" for w in words if w in PEER_FLAGS]
            if hints:
                message += " (" + "; ".join(hints) + ")"
        raise UsageError(message)


_METAVARS = {"int": "N", "float": "X", "str": "TEXT"}
_NAMED_METAVARS = {"game": "GAME", "runs_dir": "DIR", "run_name": "NAME"}


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Config setting, in the table's groups; a flag not given stays out of
    the namespace, so that a resume can tell what was asked for."""
    from ..config import Config, flag, spec_of

    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in dataclasses.fields(Config):
        spec = spec_of(f)
        if spec.group not in groups:
            groups[spec.group] = parser.add_argument_group(spec.group)
        group = groups[spec.group]
        default = "" if f.default in ("", None) else f" (default: {f.default})"
        bounds = "" if spec.choices or not spec.describe_bounds() else spec.describe_bounds()
        help_text = spec.help + default + (f"; {bounds}" if bounds else "")
        if str(f.type) == "bool":
            group.add_argument(
                flag(f.name),
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_text,
            )
            continue
        kind = {"int": whole_number, "float": float, "str": str}[str(f.type)]
        group.add_argument(
            flag(f.name),
            type=kind,
            choices=spec.choices or None,
            default=argparse.SUPPRESS,
            help=help_text,
            metavar=None if spec.choices else _NAMED_METAVARS.get(f.name, _METAVARS[str(f.type)]),
        )


def whole_number(text: str) -> int:
    """Integers as people write them: 10000000, 10_000_000, 1e7."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        return int(value)


MAX_GAMES = 100_000


def game_count(text: str) -> int:
    """A number of games: 1 to MAX_GAMES."""
    n = whole_number(text)
    if not 1 <= n <= MAX_GAMES:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_GAMES:,}, got {n}")
    return n


def seed_number(text: str) -> int:
    """A seed numpy, torch and the emulator all take: 0 to 2**31 - 1."""
    from ..config import MAX_SEED

    n = whole_number(text)
    if not 0 <= n <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_SEED:,}, got {n}")
    return n


def _add_playing_flags(parser: argparse.ArgumentParser, default_seed: int | None) -> None:
    """What `eval` and `watch` share: which checkpoint, how actions are chosen, seed, device."""
    parser.add_argument(
        "--best", action="store_true", help="play the run's best.pt (its best evaluation)"
    )
    parser.add_argument(
        "--greedy", action="store_true", help="play the most probable action, not a sample"
    )
    seed_help = "seed of the first game" + (
        f" (default: {default_seed})" if default_seed is not None else " (default: random)"
    )
    parser.add_argument(
        "--seed", type=seed_number, default=default_seed, metavar="N", help=seed_help
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where the network runs (default: auto, cuda where torch sees one)",
    )


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="kungfu",
        description="Train, evaluate, watch and plot a recurrent actor-critic on Atari games.",
    )
    parser.add_argument("--version", action="version", version=f"kungfu_rl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(sub.add_parser("train", help="train an agent (a run folder under --runs-dir)"))
    _add_eval(sub.add_parser("eval", help="play full games with a trained agent, score them"))
    _add_watch(
        sub.add_parser(
            "watch",
            help="watch an agent play: MP4 and GIF of full games (default: the packaged one)",
        )
    )
    plot = sub.add_parser(
        "plot", help="draw the learning curves of a run, or compare the scores of several"
    )
    plot.add_argument("runs", type=Path, nargs="+", metavar="run", help="run folders")
    plot.add_argument(
        "--out", type=Path, help="PNG to write (default: RUN/plots/learning_curves.png)"
    )
    plot.add_argument(
        "--labels",
        nargs="+",
        help="legend names of the runs (default: folders); a name given twice, one colour",
    )
    report = sub.add_parser("report", help="write RUN/report.html, a one-page run report")
    report.add_argument("run", type=Path, help="a run folder")
    sub.add_parser("games", help="list the games ale-py carries, with the score of those measured")
    return parser


def _add_train(train: argparse.ArgumentParser) -> None:
    train.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue RUN from its newest loadable checkpoint (a larger --frames extends it)",
    )
    train.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar (--progress) or a plain line every 30 s (--no-progress); "
        "default: a bar on a terminal, lines elsewhere. Not saved with the run",
    )
    _add_config_flags(train)


def _add_eval(ev: argparse.ArgumentParser) -> None:
    ev.add_argument(
        "path", metavar="RUN|CHECKPOINT", help="a run folder, a checkpoint, or 'pretrained'"
    )
    ev.add_argument("--games", type=game_count, default=20, help="full games (default: 20)")
    _add_playing_flags(ev, default_seed=12345)
    ev.add_argument("--video", action="store_true", help="write an MP4 of every game")


def _add_watch(watch: argparse.ArgumentParser) -> None:
    watch.add_argument(
        "path",
        nargs="?",
        default="pretrained",
        metavar="RUN|CHECKPOINT",
        help="a run folder, a checkpoint, or 'pretrained' (the default: the agent shipped "
        "in the package)",
    )
    watch.add_argument("--games", type=game_count, default=1, help="full games (default: 1)")
    _add_playing_flags(watch, default_seed=None)
    watch.add_argument(
        "--out", type=Path, help="folder for the videos (default: RUN/videos/watch-<stamp>)"
    )
    watch.add_argument(
        "--gif-seconds",
        type=float,
        default=20.0,
        metavar="X",
        help="seconds of play in each GIF (default: 20)",
    )


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Config settings a parsed `kungfu train` command line names (flags not given are
    absent, so that a preset's values and a resumed run's own stay theirs)."""
    from ..config import Config

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if f.name in args}


def _cmd_train(args: argparse.Namespace) -> int:
    from ..config import Config
    from ..runs.metrics import frames_per_second
    from ..training.launch import resume, train
    from ..training.outcome import TrainingFailed, TrainingInterrupted

    given = given_settings(args)
    try:
        if args.resume is not None:
            result = resume(args.resume, given, progress=args.progress)
        else:
            result = train(Config.from_preset(**given), progress=args.progress)
    except TrainingInterrupted as stop:
        print(
            f"\n{signal_name(stop.signum)}: stopped; checkpoint saved at {stop.checkpoint}\n"
            f"resume with: kungfu train --resume {stop.run_dir}",
            file=sys.stderr,
        )
        return 128 + stop.signum
    except TrainingFailed as e:
        print(f"kungfu: training stopped: {e}", file=sys.stderr)
        return e.exit_code
    if not result.is_main:  # under torchrun, rank 0 speaks for the run
        return 0
    config = result.config
    last = result.evaluations[-1] if result.evaluations else None
    print(f"run folder: {result.run_dir} (report: {result.run_dir / 'report.html'})")
    print(
        f"{result.frames:,} frames in {result.updates:,} updates, {result.wall_time_s:.0f} s "
        f"({frames_per_second(result.frames, result.wall_time_s):,.0f} frames/s)"
    )
    if last:
        print(f"last evaluation ({config.eval_games} games): mean {last['mean']:.0f}")
    return 0


def _load_for_playing(args: argparse.Namespace) -> tuple[LoadedAgent, Path]:
    """The agent `eval` or `watch` plays, and the folder its records go to (a run's own
    folder; runs/pretrained for the packaged agent, whose folder may not be writable)."""
    from ..runs.checkpoints import CHECKPOINT_DIR
    from ..runs.loading import PRETRAINED, load_agent

    loaded = load_agent(args.path, device=args.device, best=args.best)
    if args.path == PRETRAINED:
        record_dir = Path("runs") / PRETRAINED
    else:
        path = loaded.path
        record_dir = path.parent.parent if path.parent.name == CHECKPOINT_DIR else path.parent
    frames = loaded.payload.get("frames")
    print(
        f"playing {loaded.path}"
        + (f" ({int(frames):,} frames of training)" if frames is not None else ""),
        file=sys.stderr,
    )
    return loaded, record_dir


def _new_stamp(folder: Path, name: str = "eval-{}.json") -> str:
    """<YYYYmmdd-HHMMSS> for a new record `name` in `folder`, with -2, -3, ... when one of
    that second exists already (two in one second must not overwrite each other)."""
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    n, unique = 1, stamp
    while (folder / name.format(unique)).exists():
        n += 1
        unique = f"{stamp}-{n}"
    return unique


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from ..play.evaluate import evaluate, save_eval_record, summarize
    from ..runs.loading import env_factory

    loaded, run_dir = _load_for_playing(args)
    config, payload = loaded.config, loaded.payload
    env = env_factory(config)()
    torch.manual_seed(args.seed)

    def progress(i: int, score: float, steps: int) -> None:
        print(f"game {i + 1}/{args.games}: {score:,.0f} ({steps:,} steps)", file=sys.stderr)

    stamp = _new_stamp(run_dir)
    video_dir = run_dir / "videos" / f"eval-{stamp}" if args.video else None
    scores = evaluate(
        loaded.agent,
        env,
        args.games,
        seed=args.seed,
        video_dir=video_dir,
        greedy=args.greedy,
        on_game=progress,
    )
    stats = summarize(scores)
    run_dir.mkdir(parents=True, exist_ok=True)
    out = save_eval_record(
        run_dir,
        stamp,
        scores,
        video_dir,
        checkpoint=str(loaded.path),
        update=payload.get("update"),
        frames=payload.get("frames"),
        game=config.game,
        seed=args.seed,
        greedy=args.greedy,
        sticky_actions=config.sticky_actions,
    )
    print(
        f"{config.game}, {args.games} full games{', greedy' if args.greedy else ''}: "
        f"mean {stats['mean']:.1f}  median {stats['median']:.1f}  "
        f"min {stats['min']:.0f}  max {stats['max']:.0f}"
    )
    print(f"wrote {out}" + (f" and videos in {video_dir}" if video_dir else ""))
    return 0


def _cmd_watch(args: argparse.Namespace) -> int:
    import torch

    from ..play.watch import watch
    from ..runs.loading import env_factory

    if not 0 < args.gif_seconds <= 3600:
        raise UsageError(f"--gif-seconds must be in (0, 3600], got {args.gif_seconds}")
    loaded, run_dir = _load_for_playing(args)
    videos = run_dir / "videos"
    out = args.out or videos / f"watch-{_new_stamp(videos, 'watch-{}')}"
    if args.seed is not None:
        torch.manual_seed(args.seed)
    env = env_factory(loaded.config)()
    games = watch(
        loaded.agent,
        env,
        out,
        args.games,
        seed=args.seed,
        greedy=args.greedy,
        gif_seconds=args.gif_seconds,
    )
    for i, game in enumerate(games):
        print(
            f"game {i + 1}: score {game.score:,.0f}, {game.steps:,} steps "
            f"({game.steps * loaded.config.frameskip / 60:,.0f} s of play): "
            f"{game.video} and {game.gif}"
        )
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from ..runs.plots import plot_comparison, plot_learning_curves

    if len(args.runs) > 1 and args.out is None:
        raise UsageError("comparing runs needs --out PNG")
    for run in args.runs:
        if not run.is_dir():
            raise UsageError(f"no run folder at {run}")
        if not (run / "metrics.csv").is_file():
            raise UsageError(f"{run} has no metrics.csv")
    labels = args.labels or [run.name for run in args.runs]
    if len(labels) != len(args.runs):
        raise UsageError(f"--labels names {len(labels)} runs, but {len(args.runs)} were given")
    try:
        if len(args.runs) == 1:
            run = args.runs[0]
            out = args.out or run / "plots" / "learning_curves.png"
            out = plot_learning_curves(run / "metrics.csv", out, title=labels[0])
        else:
            metrics = [
                (label, run / "metrics.csv") for label, run in zip(labels, args.runs, strict=True)
            ]
            out = plot_comparison(metrics, args.out)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from ..runs.report import write_report

    if not (args.run / "config.json").is_file():
        raise UsageError(f"no run folder at {args.run} (it has no config.json)")
    print(f"wrote {write_report(args.run)}")
    return 0


def _cmd_games(args: argparse.Namespace) -> int:
    from ..envs.games import game_names, measured_games

    measured = measured_games()
    for name in game_names():
        m = measured.get(name)
        if m is None:
            print(name)
            continue
        settings = f"with `{m['settings']}`" if m.get("settings") else "at the defaults"
        print(
            f"{name:<24} measured: {m['mean']:,.1f}, the {m['games']}-game mean after "
            f"{m['frames'] / 1e6:g}M frames {settings} (seed {m['seed']}; docs/suite.md)"
        )
    return 0


COMMANDS = {
    "train": _cmd_train,
    "eval": _cmd_eval,
    "watch": _cmd_watch,
    "plot": _cmd_plot,
    "report": _cmd_report,
    "games": _cmd_games,
}


def main(argv: Sequence[str] | None = None) -> int:
    from ..config import ConfigError
    from ..runs.errors import CheckpointError

    try:
        args = build_parser().parse_args(argv)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except (UsageError, ConfigError, CheckpointError) as e:
        print(f"kungfu: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nkungfu: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`kungfu games | head`): end quietly; point stdout at
        # /dev/null so that Python's own flush at exit does not complain either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:  # a path the file system refuses (a name too long), a folder unread
        where = f": {e.filename}" if e.filename else ""
        print(f"kungfu: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
