"""`kungfu plot`, `kungfu report` and `kungfu games`: what runs and measured games show."""

from __future__ import annotations

import argparse

from .parser import UsageError


def cmd_plot(args: argparse.Namespace) -> int:
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


def cmd_report(args: argparse.Namespace) -> int:
    from ..runs.report import write_report

    if not (args.run / "config.json").is_file():
        raise UsageError(f"no run folder at {args.run} (it has no config.json)")
    print(f"wrote {write_report(args.run)}")
    return 0


def cmd_games(args: argparse.Namespace) -> int:
    from ..envs.games import game_names, measured_games

    measured = measured_games()
    for name in game_names():
        m = measured.get(name)
        if m is None:
            print(name)
            continue
        settings = f"with `{m['settings']}`" if m.get("settings") else "at the defaults"
        print(
            f"{name:<24} measured: {score(m['mean'])}, the {m['games']}-game mean after "
            f"{millions(m['frames'])} frames {settings} (seed {m['seed']}; docs/suite.md)"
        )
    return 0


def score(mean: float) -> str:
    """A mean score as docs/suite.md writes it: 17.8, 727.5, 1,249 (no decimal from 100 on)."""
    text = f"{mean:,.1f}"
    return text.removesuffix(".0") if abs(mean) >= 100 else text


def millions(frames: float) -> str:
    """Frames as people write them, to three figures: 10M for a run that stopped at the end
    of the update past 10,000,000 frames (10,001,920), 40M, 2.5M."""
    return f"{float(f'{frames / 1e6:.3g}'):g}M"
