"""Starting a run and resuming one: settings checked, the run folder made, a Trainer handed it.

Under torchrun every rank calls the same function; rank 0 alone touches the run folder and
tells the others what it decided (or the one-line error that stops them all): the machines
need share nothing but the network. A run folder has one writer: rank 0 (or the one process)
holds its lock (runs/lock.py) while it trains.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import RESUMABLE, Config, ConfigError, flag
from ..runs.checkpoints import never_saved, read_newest_checkpoint
from ..runs.errors import CheckpointError, RunFileError
from ..runs.files import read_config, set_aside, settle, warn, write_config
from ..runs.lock import RunLock
from ..runtime.machine import free_space, pick_device
from .distributed import (
    DistInfo,
    RankLost,
    broadcast_object,
    init_from_env,
    shutdown,
    world_size_from_env,
)
from .outcome import TrainingFailed, TrainResult, write_failed
from .trainer import Trainer

JOIN_SETTINGS = ("device", "dist_timeout_s")
"""The settings that form the process group; a resume under torchrun takes them from its
command line (see `_join_to_resume`)."""


def check_writable(run_dir: Path) -> None:
    """Prove the run folder can be written, before any training."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise ConfigError(
            f"cannot write the run folder {run_dir}: {e.strerror or e} "
            f"({free_space(run_dir)} free there)"
        ) from None


def new_run_dir(config: Config, lock: RunLock | None = None) -> Path:
    """runs/<game>-<YYYYmmdd-HHMMSS>/ (or --run-name), which must not hold a run already.

    With `lock`, the folder is locked for this process before it is checked, so that two
    processes given one --run-name cannot both start there (RunLocked names the other).
    """
    name = config.run_name or f"{config.game}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = Path(config.runs_dir) / name
    if lock is not None and run_dir.is_dir():
        lock.acquire(run_dir)
    if (run_dir / "config.json").exists():
        if not never_saved(run_dir):
            if lock is not None:
                lock.release()
            raise ConfigError(f"{run_dir} holds a run already; continue it with --resume {run_dir}")
        # a start that ended before its first checkpoint (a crash, Ctrl-C, kill -9): its
        # name is free again, and the rows it logged go, so that none is counted twice
        warn(f"{run_dir} holds a run that stopped before its first checkpoint; starting anew")
        for stale in [run_dir / "metrics.csv", *run_dir.glob("events.out.tfevents.*")]:
            stale.unlink(missing_ok=True)
    check_writable(run_dir)
    if lock is not None and not lock.held:
        lock.acquire(run_dir)
    return run_dir


def _main_decides(info: DistInfo, decide: Callable[[], Any]) -> Any:
    """Run `decide` on rank 0 and give its result, or the one-line error that stops the run
    (ConfigError, CheckpointError; a failed write as ConfigError), to every rank."""
    outcome: tuple[str, Any]
    if info.is_main:
        try:
            outcome = ("ok", decide())
        except (ConfigError, CheckpointError) as e:
            outcome = ("error", e)
        except OSError as e:  # config.json on a full disk, say
            where = e.filename or "the run folder"
            message = f"cannot write {where}: {e.strerror or e} ({free_space(where)} free there)"
            outcome = ("error", ConfigError(message))
    else:
        outcome = ("ok", None)
    try:
        outcome = broadcast_object(info, outcome)
    except RankLost as e:
        shutdown(info)
        raise TrainingFailed(
            f"rank {info.rank} lost contact with another rank before training began ({e})"
        ) from None
    if outcome[0] == "error":
        shutdown(info)
        raise outcome[1]
    return outcome[1]


def _run(info: DistInfo, run_dir: Path, lock: RunLock, start: Callable[[], Trainer]) -> TrainResult:
    """Start the Trainer and run it, then let go of the run folder's lock. On rank 0 a write
    that fails (a full disk, say) becomes TrainingFailed: one line, exit code 2."""
    try:
        return start().run()
    except OSError as e:
        if not info.is_main:
            raise
        failure = write_failed(e, run_dir)
        # TensorBoard's writer thread keeps the error, whose traceback holds the Trainer:
        # dropped, so that the games are freed now rather than reported leaked at exit
        e.__traceback__ = None
    finally:
        lock.release()
    raise failure


def train(config: Config, progress: bool | None = None) -> TrainResult:
    """Train a new agent with `config`; returns where the run was written and what it did.

    Under torchrun (WORLD_SIZE > 1) this process is one rank of a data-parallel run.
    Raises ConfigError for settings that cannot work (before anything is written),
    TrainingInterrupted after Ctrl-C or SIGTERM (once a checkpoint is on disk) and
    TrainingFailed when training cannot go on. `progress`: a bar (True), plain lines
    (False), or a bar only where stderr is a terminal (None).
    """
    settle(config)
    pick_device(config.device)
    info = init_from_env(config.device, config.dist_timeout_s)

    lock = RunLock()

    def make() -> str:
        run_dir = new_run_dir(config, lock)
        write_config(run_dir, config)
        return str(run_dir)

    try:
        run_dir = Path(_main_decides(info, make))
    except BaseException:
        lock.release()
        raise
    return _run(
        info, run_dir, lock, lambda: Trainer(config, run_dir, dist_info=info, progress=progress)
    )


def resume(
    run_dir: Path, overrides: dict[str, Any] | None = None, progress: bool | None = None
) -> TrainResult:
    """Continue the run in `run_dir` from its newest loadable checkpoint.

    `overrides` may change the settings in RESUMABLE (a larger --frames budget, say).
    Counters, the optimizer, RNG states, metrics.csv and TensorBoard steps carry on.
    In a distributed run rank 0 alone reads the run folder (the other machines need no copy
    of it) and sends every rank the settings and the checkpoint's state.
    """
    run_dir = Path(run_dir)
    overrides = dict(overrides or {})
    fixed = sorted(set(overrides) - RESUMABLE)
    if fixed:
        flags = ", ".join(flag(f) for f in fixed)
        raise ConfigError(f"{flags} cannot change when resuming a run; start a new run instead")
    info = _join_to_resume(overrides)
    lock = RunLock()

    try:
        config_json, payload = _main_decides(
            info, lambda: _prepare_resume(run_dir, overrides, lock)
        )
        config = settle(Config.from_json(config_json))
        pick_device(config.device)
    except BaseException:
        lock.release()
        raise
    return _run(
        info,
        run_dir,
        lock,
        lambda: Trainer(config, run_dir, resume_from=payload, dist_info=info, progress=progress),
    )


def _prepare_resume(
    run_dir: Path, overrides: dict[str, Any], lock: RunLock
) -> tuple[str, dict[str, Any]]:
    """Rank 0: lock the run, read its newest checkpoint, check the settings against it;
    the settings (as JSON) and the checkpoint, for every rank."""
    if not run_dir.is_dir():
        raise CheckpointError(f"no run folder at {run_dir}")
    lock.acquire(run_dir)
    path, payload, skipped = read_newest_checkpoint(run_dir)
    config, rebuilt = _resumed_config(run_dir, path, payload, overrides)
    check_writable(run_dir)
    # first, the run folder; then what was wrong in it
    print(f"resuming {run_dir} from {path.name} ({payload['frames']:,} frames)", file=sys.stderr)
    for bad, why in skipped:  # set aside: a new checkpoint must not take its name
        warn(f"skipped {bad.name}: {why}; moved to {set_aside(bad).relative_to(run_dir)}")
    if rebuilt:
        warn(rebuilt)
    write_config(run_dir, config, update=payload["update"], frames=payload["frames"])
    return config.to_json(), payload


def _resumed_config(
    run_dir: Path, path: Path, payload: dict[str, Any], overrides: dict[str, Any]
) -> tuple[Config, str]:
    """The checkpoint's settings with `overrides`, checked against the run's config.json
    (which it replaces; a damaged one is rebuilt, said in the returned note)."""
    config = settle(Config.from_json(payload["config"]))
    try:
        recorded, rebuilt = read_config(run_dir), ""
    except RunFileError as e:  # written anew by the caller, from the checkpoint's config
        recorded, rebuilt = None, f"{e}; rebuilt from {path.name}"
    if recorded is not None and recorded.game != config.game:
        raise CheckpointError(
            f"{path.name} was made for {config.game}, but {run_dir} is a {recorded.game} run"
        )
    config = settle(dataclasses.replace(config, **overrides))
    pick_device(config.device)
    if payload["frames"] >= config.frames:
        raise ConfigError(
            f"{run_dir} already trained {payload['frames']:,} of its {config.frames:,} "
            "frames; give a larger --frames to continue"
        )
    return config, rebuilt


def _join_to_resume(overrides: dict[str, Any]) -> DistInfo:
    """Under torchrun, join the process group before the checkpoint is read: rank 0 alone
    reads it, the others may have no copy. The group is formed from what every rank knows
    alike, this command line's --device and --dist-timeout-s (or their defaults), and the
    resumed run takes them too (set into `overrides`). Alone, nothing is joined."""
    if world_size_from_env() <= 1:
        return DistInfo()
    given = {k: overrides[k] for k in JOIN_SETTINGS if k in overrides}
    joining = dataclasses.replace(Config(), **given).validate()
    overrides.update({k: getattr(joining, k) for k in JOIN_SETTINGS})
    pick_device(joining.device)
    return init_from_env(joining.device, joining.dist_timeout_s)
