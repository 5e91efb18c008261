"""The `kungfu` command line: train | eval | plot | games.

Mistakes in what a user typed print one line, `kungfu: error: ...`, and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def signal_name(signum: int) -> str:
    import signal

    return {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}.get(signum, f"signal {signum}")


class UsageError(Exception):
    """Bad user input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


_METAVARS = {"int": "N", "float": "X", "str": "TEXT"}
_NAMED_METAVARS = {"game": "GAME", "runs_dir": "DIR", "run_name": "NAME"}


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Config setting, in the table's groups; a flag not given stays out of
    the namespace, so that a resume can tell what was asked for."""
    from .config import Config, flag, spec_of

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kungfu",
        description="Train, evaluate and plot a recurrent actor-critic on Atari games.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train an agent (a run folder under --runs-dir)")
    train.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue RUN from its newest loadable checkpoint (a larger --frames extends it)",
    )
    _add_config_flags(train)

    ev = sub.add_parser("eval", help="play full games with a trained agent")
    ev.add_argument("path", type=Path, help="a run folder or a checkpoint file")
    ev.add_argument(
        "--games", type=whole_number, default=20, help="full games to play (default: 20)"
    )
    ev.add_argument("--video", action="store_true", help="write an MP4 of every game")
    ev.add_argument("--seed", type=whole_number, default=12345, help="seed of the first game")
    ev.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))

    plot = sub.add_parser(
        "plot", help="draw the learning curves of a run, or compare the scores of several"
    )
    plot.add_argument("runs", type=Path, nargs="+", metavar="run", help="run folders")
    plot.add_argument(
        "--out", type=Path, help="PNG to write (default: RUN/plots/learning_curves.png)"
    )
    plot.add_argument("--labels", nargs="+", help="legend names of the runs (default: folders)")

    report = sub.add_parser("report", help="write RUN/report.html, a one-page run report")
    report.add_argument("run", type=Path, help="a run folder")

    sub.add_parser("games", help="list the games ale-py carries")
    return parser


def _cmd_train(args: argparse.Namespace) -> int:
    from .config import Config
    from .launch import resume, train
    from .trainer import TrainingFailed, TrainingInterrupted

    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if f.name in args}
    try:
        if args.resume is not None:
            result = resume(args.resume, given)
        else:
            result = train(Config(**given))
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
        f"({result.frames / result.wall_time_s:,.0f} frames/s)"
    )
    if last:
        print(f"last evaluation ({config.eval_games} games): mean {last['mean']:.0f}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from .checkpoint import CHECKPOINT_DIR
    from .evaluate import evaluate, save_eval_record, summarize
    from .loading import env_factory, load_agent

    if args.games < 1:
        raise UsageError(f"--games must be >= 1, got {args.games}")
    loaded = load_agent(args.path, device=args.device)
    path, config, payload = loaded.path, loaded.config, loaded.payload
    run_dir = path.parent.parent if path.parent.name == CHECKPOINT_DIR else path.parent
    env = env_factory(config)()
    torch.manual_seed(args.seed)

    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    video_dir = run_dir / "videos" / f"eval-{stamp}" if args.video else None
    scores = evaluate(loaded.agent, env, args.games, seed=args.seed, video_dir=video_dir)
    stats = summarize(scores)
    out = save_eval_record(
        run_dir,
        stamp,
        scores,
        video_dir,
        checkpoint=str(path),
        update=payload.get("update"),
        frames=payload.get("frames"),
        game=config.game,
        seed=args.seed,
        sticky_actions=config.sticky_actions,
    )
    print(
        f"{config.game}, {args.games} full games, checkpoint at {payload.get('frames', 0):,} "
        f"frames: mean {stats['mean']:.1f}  median {stats['median']:.1f}  "
        f"min {stats['min']:.0f}  max {stats['max']:.0f}"
    )
    print(f"wrote {out}" + (f" and videos in {video_dir}" if video_dir else ""))
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from .plots import plot_comparison, plot_learning_curves

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
            metrics = {
                label: run / "metrics.csv" for label, run in zip(labels, args.runs, strict=True)
            }
            out = plot_comparison(metrics, args.out)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    if not (args.run / "config.json").is_file():
        raise UsageError(f"no run folder at {args.run} (it has no config.json)")
    print(f"wrote {write_report(args.run)}")
    return 0


def _cmd_games(args: argparse.Namespace) -> int:
    from .envs import game_names

    print("\n".join(game_names()))
    return 0


COMMANDS = {
    "train": _cmd_train,
    "eval": _cmd_eval,
    "plot": _cmd_plot,
    "report": _cmd_report,
    "games": _cmd_games,
}


def main(argv: Sequence[str] | None = None) -> int:
    from .checkpoint import CheckpointError
    from .config import ConfigError

    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, CheckpointError) as e:
        print(f"kungfu: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nkungfu: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
