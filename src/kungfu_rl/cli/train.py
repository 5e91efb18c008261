"""`kungfu train`: a new run, or `--resume` of one; what it prints when it ends."""

from __future__ import annotations

import argparse
import os
import sys

from .parser import given_settings


def signal_name(signum: int) -> str:
    import signal

    return {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}.get(signum, f"signal {signum}")


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import Config
    from ..envs.game_preset import with_game_preset

    given, said = given_settings(args), None
    if args.resume is None:  # a game other than Kung-Fu Master starts from its own preset
        given, said = with_game_preset(given)
    # a new run's settings are checked before torch is imported: a mistyped value answers
    # at once (a resumed run's are checked against its checkpoint)
    config = None if args.resume is not None else Config.from_preset(**given).validate()
    if said and os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks
        print(said, file=sys.stderr, flush=True)  # before "training in RUN"

    from ..runs.metrics import frames_per_second
    from ..training.launch import resume, train
    from ..training.outcome import TrainingFailed, TrainingInterrupted

    try:
        if config is None:
            result = resume(args.resume, given, progress=args.progress)
        else:
            result = train(config, progress=args.progress)
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
    print(
        f"{result.frames:,} frames in {result.updates:,} updates, {result.wall_time_s:.0f} s "
        f"({frames_per_second(result.frames, result.wall_time_s):,.0f} frames/s)"
    )
    if last:
        print(f"last evaluation ({config.eval_games} games): mean {last['mean']:.0f}")
    # last, as it was first: where everything is
    print(f"run folder: {result.run_dir} (report: {result.run_dir / 'report.html'})")
    return 0
