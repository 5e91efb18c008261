"""The `kungfu` parser: one flag per setting of the table, the commands' own flags, and the
types that check what a user typed as it is parsed."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, NoReturn


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
    from ..config.validation import number

    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in dataclasses.fields(Config):
        spec = spec_of(f)
        if spec.group not in groups:
            groups[spec.group] = parser.add_argument_group(spec.group)
        group = groups[spec.group]
        shown = f.default if isinstance(f.default, str | bool) else number(f.default)
        default = "" if f.default in ("", None) else f" (default: {shown})"
        bounds = "" if spec.choices or not spec.describe_bounds() else spec.describe_bounds()
        help_text = spec.help + default + (f"; {bounds}" if bounds else "")
        if f.name == "preset":
            help_text += ". " + _presets_described()
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


def _presets_described() -> str:
    """Every preset by name, with its few words from PRESET_HELP."""
    from ..config.presets import PRESET_HELP, PRESETS

    named = [f"{name}: {PRESET_HELP.get(name, 'see PRESETS')}" for name in PRESETS]
    return "; ".join(["none: the defaults", *named])


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
    from ..config.validation import number

    n = whole_number(text)
    if not 1 <= n <= MAX_GAMES:
        raise argparse.ArgumentTypeError(f"must be 1 to {number(MAX_GAMES)}, got {number(n)}")
    return n


def seed_number(text: str) -> int:
    """A seed numpy, torch and the emulator all take: 0 to 2**31 - 1."""
    from ..config import MAX_SEED
    from ..config.validation import number

    n = whole_number(text)
    if not 0 <= n <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be 0 to {number(MAX_SEED)}, got {number(n)}")
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
    from ..runtime.versions import __version__

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
