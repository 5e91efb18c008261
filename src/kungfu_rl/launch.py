"""Starting a run and resuming one: settings checked, the run folder made, a Trainer handed it.

Under torchrun every rank calls the same function; rank 0 alone touches the run folder and
tells the others what it decided (or the one-line error that stops them all).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, load_newest
from .config import RESUMABLE, Config, ConfigError, flag
from .distributed import DistInfo, broadcast_object, init_from_env, shutdown
from .loading import settle
from .machine import pick_device
from .trainer import Trainer, TrainResult


def check_writable(run_dir: Path) -> None:
    """Prove the run folder can be written, before any training."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"cannot write the run folder {run_dir}: {e.strerror or e}") from None


def new_run_dir(config: Config) -> Path:
    """runs/<game>-<YYYYmmdd-HHMMSS>/ (or --run-name), which must not hold a run already."""
    name = config.run_name or f"{config.game}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = Path(config.runs_dir) / name
    if (run_dir / "config.json").exists():
        raise ConfigError(f"{run_dir} holds a run already; continue it with --resume {run_dir}")
    check_writable(run_dir)
    return run_dir


def _main_decides(info: DistInfo, decide: Callable[[], Any]) -> Any:
    """Run `decide` on rank 0 and give its result, or its ConfigError, to every rank."""
    outcome: tuple[str, Any]
    if info.is_main:
        try:
            outcome = ("ok", decide())
        except ConfigError as e:
            outcome = ("error", str(e))
    else:
        outcome = ("ok", None)
    outcome = broadcast_object(info, outcome)
    if outcome[0] == "error":
        shutdown(info)
        raise ConfigError(outcome[1])
    return outcome[1]


def train(config: Config) -> TrainResult:
    """Train a new agent with `config`; returns where the run was written and what it did.

    Under torchrun (WORLD_SIZE > 1) this process is one rank of a data-parallel run.
    Raises ConfigError for settings that cannot work (before anything is written),
    TrainingInterrupted after Ctrl-C or SIGTERM (once a checkpoint is on disk) and
    TrainingFailed when training cannot go on.
    """
    settle(config)
    pick_device(config.device)
    info = init_from_env(config.device, config.dist_timeout_s)

    def make() -> str:
        run_dir = new_run_dir(config)
        (run_dir / "config.json").write_text(config.to_json())
        return str(run_dir)

    run_dir = Path(_main_decides(info, make))
    return Trainer(config, run_dir, dist_info=info).run()


def resume(run_dir: Path, overrides: dict[str, Any] | None = None) -> TrainResult:
    """Continue the run in `run_dir` from its newest loadable checkpoint.

    `overrides` may change the settings in RESUMABLE (a larger --frames budget, say).
    Counters, the optimizer, RNG states, metrics.csv and TensorBoard steps carry on.
    In a distributed run every rank reads rank 0's checkpoint from `run_dir`.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"no run folder at {run_dir}")
    overrides = dict(overrides or {})
    fixed = sorted(set(overrides) - RESUMABLE)
    if fixed:
        flags = ", ".join(flag(f) for f in fixed)
        raise ConfigError(f"{flags} cannot change when resuming a run; start a new run instead")
    path, payload, skipped = load_newest(run_dir)
    config = settle(Config.from_json(payload["config"]))
    run_config = run_dir / "config.json"
    if run_config.is_file():
        recorded = Config.load(run_config)
        if recorded.game != config.game:
            raise CheckpointError(
                f"{path.name} was made for {config.game}, but {run_dir} is a {recorded.game} run"
            )
    config = settle(dataclasses.replace(config, **overrides))
    pick_device(config.device)
    if payload["frames"] >= config.frames:
        raise ConfigError(
            f"{run_dir} already trained {payload['frames']:,} of its {config.frames:,} frames; "
            "give a larger --frames to continue"
        )
    info = init_from_env(config.device, config.dist_timeout_s)

    def prepare() -> None:
        check_writable(run_dir)
        for bad, why in skipped:
            print(f"warning: skipped {bad.name}: {why}", file=sys.stderr)
        print(
            f"resuming {run_dir} from {path.name} ({payload['frames']:,} frames)", file=sys.stderr
        )
        run_config.write_text(config.to_json())

    _main_decides(info, prepare)
    return Trainer(config, run_dir, resume_from=payload, dist_info=info).run()
