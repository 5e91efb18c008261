"""`kungfu eval` and `kungfu watch`: a trained agent plays full games, scored or filmed."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .parser import UsageError

if TYPE_CHECKING:
    from ..runs.loading import LoadedAgent


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


def score(x: float) -> str:
    """A game score or a statistic of scores, all written alike: 13,350.0."""
    return f"{x:,.1f}"


def _new_stamp(folder: Path, name: str = "eval-{}.json") -> str:
    """<YYYYmmdd-HHMMSS> for a new record `name` in `folder`, with -2, -3, ... when one of
    that second exists already (two in one second must not overwrite each other)."""
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    n, unique = 1, stamp
    while (folder / name.format(unique)).exists():
        n += 1
        unique = f"{stamp}-{n}"
    return unique


def cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from ..play.evaluate import evaluate, save_eval_record, summarize
    from ..runs.loading import env_factory

    loaded, run_dir = _load_for_playing(args)
    config, payload = loaded.config, loaded.payload
    env = env_factory(config)()
    torch.manual_seed(args.seed)

    def progress(i: int, points: float, steps: int) -> None:
        print(f"game {i + 1}/{args.games}: {score(points)} ({steps:,} steps)", file=sys.stderr)

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
        + "  ".join(f"{name} {score(stats[name])}" for name in ("mean", "median", "min", "max"))
    )
    print(f"wrote {out}" + (f" and videos in {video_dir}" if video_dir else ""))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
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
            f"game {i + 1}: score {score(game.score)}, {game.steps:,} steps "
            f"({game.steps * loaded.config.frameskip / 60:,.0f} s of play): "
            f"{game.video} and {game.gif}"
        )
    return 0
