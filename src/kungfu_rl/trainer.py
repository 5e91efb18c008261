"""The training loop: interact, replay and update, evaluate, log, checkpoint, resume."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from .agent import RecurrentAgent
from .allocator import keep_freed_memory
from .checkpoint import (
    CheckpointError,
    load_newest,
    remove_partial_checkpoints,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from .config import Config, ConfigError
from .distributed import (
    DistInfo,
    GradientSync,
    RankLost,
    broadcast_object,
    broadcast_parameters,
    gather_lists,
    init_from_env,
    shutdown,
)
from .envs import AtariGame
from .evaluate import evaluate, save_eval_record, summarize
from .logger import MetricsLogger, truncate_metrics
from .pool import EnvPool
from .report import write_report
from .stopping import StopOnSignals
from .update import train_on_rollout

RESUMABLE = frozenset(
    "frames progress device precision torch_threads acting_threads env_threads overlap eval_every "
    "eval_games log_every checkpoint_every checkpoint_minutes keep_checkpoints max_nonfinite "
    "dist_timeout_s".split()
)
"""Settings a resumed run may change; the others define the run and stay as they were."""


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped training; a checkpoint was written first."""

    def __init__(self, run_dir: Path, checkpoint: Path, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}; checkpoint {checkpoint}")
        self.run_dir = run_dir
        self.checkpoint = checkpoint
        self.signum = signum


class TrainingFailed(Exception):
    """Training cannot go on: non-finite updates (exit code 1), or a checkpoint that cannot be
    written, a full disk say (exit code 2); the last good checkpoint is left as it was."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class TrainResult:
    run_dir: Path
    updates: int
    frames: int
    wall_time_s: float
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    agent: RecurrentAgent | None = None
    """The trained agent, for use from Python."""


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 natively (else bf16 is emulated, and slower)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return any(
        getattr(cpu, name, lambda: False)()
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )


def pick_precision(name: str, device: torch.device) -> str:
    """--precision auto|fp32|bf16 -> fp32 or bf16 for `device`."""
    if name == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return name


def build_agent(
    config: Config, obs_shape: tuple[int, ...], n_actions: int, device: torch.device
) -> RecurrentAgent:
    """The run's network on `device`, its conv stack in the precision `config` resolves to."""
    return RecurrentAgent(
        obs_shape,
        n_actions,
        core=config.core,
        hidden=config.hidden,
        channels=config.channels,
        precision=pick_precision(config.precision, device),
    ).to(device)


def env_factory(config: Config) -> functools.partial[AtariGame]:
    """The one way this run makes a game, for the pool and for evaluation alike."""
    return functools.partial(AtariGame, config.game_settings)


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


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class _Window:
    """Averages of update metrics and the games finished between two metrics rows."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.n = 0
        self.scores: list[float] = []
        self.lengths: list[int] = []
        self.frames = 0
        self.seconds = 0.0

    def add(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.n += 1

    def write(self, logger: MetricsLogger) -> None:
        for k, v in self.sums.items():
            logger.record(k, v if k == "loss/skipped" else v / max(self.n, 1))
        logger.record("rollout/episodes", len(self.scores))
        logger.record("rollout/episode_score", np.mean(self.scores) if self.scores else np.nan)
        logger.record("rollout/episode_length", np.mean(self.lengths) if self.lengths else np.nan)
        logger.record("time/fps", self.frames / self.seconds if self.seconds > 0 else np.nan)


class _NullLogger:
    """What ranks other than 0 log to: nothing."""

    def record(self, key: str, value: float) -> None:
        pass

    def dump(self, update: int, frames: int) -> None:
        pass

    def close(self) -> None:
        pass


class Trainer:
    """One training run: its agent, optimizer, games, counters, logs and checkpoints.

    In a distributed run every rank has a Trainer with its own games; rank 0 alone writes.
    """

    def __init__(
        self,
        config: Config,
        run_dir: Path,
        resume_from: dict[str, Any] | None = None,
        dist_info: DistInfo | None = None,
    ):
        self.config = config
        self.run_dir = run_dir
        self.dist = dist_info or DistInfo()
        self.device = pick_device(config.device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        cores = os.cpu_count() or 1
        torch.set_num_threads(config.torch_threads or cores)
        keep_freed_memory()  # updates reuse memory instead of page-faulting (allocator.py)
        seed_everything(config.seed)

        make_game = env_factory(config)
        self.eval_env = make_game()
        self.agent = build_agent(
            config, self.eval_env.observation_space.shape, self.eval_env.action_space.n, self.device
        )
        self.optimizer = torch.optim.Adam(self.agent.parameters(), lr=config.lr)
        broadcast_parameters(self.dist, self.agent)

        self.update = 0
        self.frames = 0
        self.elapsed_before = 0.0  # seconds trained in earlier sessions of this run
        self.evaluations: list[dict[str, Any]] = []
        self.best_eval = -math.inf
        self.nonfinite_in_a_row = 0
        if resume_from is not None:
            self._restore(resume_from)
        if self.dist.enabled:
            # each rank samples its own actions: its own RNG stream, new at every resume
            seed_everything(config.seed + self.dist.rank + 7919 * self.update)
        # Each rank plays its own games; a resumed run plays new ones (the emulators'
        # states are not in the checkpoint).
        first_game = (self.update * self.dist.world_size + self.dist.rank) * config.n_games
        self.pool = EnvPool(
            self.agent,
            make_game,
            config.n_games,
            seed=config.seed + first_game,
            env_threads=config.env_threads or cores,
            overlap=config.overlap,
            acting_threads=config.acting_threads or None,
        )
        self.frames_per_update = config.frames_per_update * self.dist.world_size  # all ranks
        self.logger: MetricsLogger | _NullLogger = _NullLogger()
        if self.dist.is_main:
            if resume_from is not None:
                truncate_metrics(run_dir / "metrics.csv", self.update)
                remove_partial_checkpoints(run_dir)
            self.logger = MetricsLogger(run_dir, purge_after_frames=self.frames)
        self.last_checkpoint: Path | None = None
        self.last_checkpoint_time = time.monotonic()
        self._start = time.perf_counter()

    def _restore(self, payload: dict[str, Any]) -> None:
        try:
            self.agent.load_state_dict(payload["model"])
            self.optimizer.load_state_dict(payload["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            first = str(e).strip().splitlines()[0]
            raise CheckpointError(
                f"the checkpoint does not fit this network ({first[:200]})"
            ) from None
        self.update = int(payload["update"])
        self.frames = int(payload["frames"])
        self.elapsed_before = float(payload.get("elapsed_s", 0.0))
        self.evaluations = list(payload.get("evaluations", []))
        self.best_eval = max((e["mean"] for e in self.evaluations), default=-math.inf)
        if "rng" in payload:
            set_rng_state(payload["rng"])

    def _payload(self) -> dict[str, Any]:
        return {
            "model": self.agent.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "update": self.update,
            "frames": self.frames,
            "elapsed_s": self.elapsed(),
            "config": self.config.to_json(),
            "rng": rng_state(),
            "evaluations": [dict(e) for e in self.evaluations],
            "world_size": self.dist.world_size,
        }

    def elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self._start

    def checkpoint(self, name: str | None = None) -> Path | None:
        """Save (rank 0 only); a failure to write stops training with the old one intact."""
        if not self.dist.is_main:
            return None
        try:
            path = save_checkpoint(
                self._payload(), self.run_dir, self.update, self.config.keep_checkpoints, name
            )
        except OSError as e:
            kept = f"the previous one, {self.last_checkpoint}, is intact"
            raise TrainingFailed(
                f"could not write a checkpoint ({e.strerror or e}); "
                + (kept if self.last_checkpoint else "no earlier checkpoint exists"),
                exit_code=2,
            ) from None
        if name is None:
            self.last_checkpoint = path
            self.last_checkpoint_time = time.monotonic()
        return path

    def _evaluate(self, stop: StopOnSignals, final: bool = False) -> None:
        """Full games, shared out over the ranks; rank 0 logs them and keeps best.pt.

        The final evaluation of a single-process run also records the games and keeps the
        best and the worst one's video for the report (videos/final-<update>/).
        """
        games = len(range(self.dist.rank, self.config.eval_games, self.dist.world_size))
        video_dir = None
        if final and not self.dist.enabled:
            video_dir = self.run_dir / "videos" / f"final-{self.update:09d}"
        self.agent.eval()
        # Alone, a signal drops the evaluation at once; in a distributed run every rank
        # must reach the next all-reduce, so the evaluation finishes first.
        stop.urgent = not self.dist.enabled
        try:
            scores = evaluate(self.agent, self.eval_env, games, video_dir=video_dir)
        finally:
            stop.urgent = False
            self.agent.train()
        scores = gather_lists(self.dist, scores)
        stats = summarize(scores)
        self.evaluations.append({"update": self.update, "frames": self.frames, **stats})
        for k, v in stats.items():
            self.logger.record(f"eval/score_{k}", v)
        if final and self.dist.is_main:
            save_eval_record(
                self.run_dir,
                f"final-{self.update:09d}",
                scores,
                video_dir,
                keep_videos="best-worst",
                update=self.update,
                frames=self.frames,
                game=self.config.game,
                sticky_actions=self.config.sticky_actions,
            )
        if stats["mean"] > self.best_eval:
            self.best_eval = stats["mean"]
            self.checkpoint(name="best.pt")

    def _checkpoint_due(self) -> bool:
        c = self.config
        by_minutes = time.monotonic() - self.last_checkpoint_time >= c.checkpoint_minutes * 60
        return self.update % c.checkpoint_every == 0 or by_minutes

    def _write_metrics(self, window: _Window) -> None:
        window.scores = gather_lists(self.dist, window.scores)
        window.lengths = gather_lists(self.dist, window.lengths)
        window.frames *= self.dist.world_size
        window.write(self.logger)
        self.logger.record("time/elapsed_s", self.elapsed())
        self.logger.dump(self.update, self.frames)

    def iterate(
        self, sync: GradientSync | None = None, keep_features: bool = False
    ) -> dict[str, float]:
        """One iteration: play a rollout of every game, then one update from it.

        The replay runs the conv stack on all T×B frames in one call. `keep_features`
        instead reuses the features computed while acting (same weights, same gradients;
        on this project's 2-core CPU within the noise of the replay's speed:
        docs/performance.md). Returns the update's metrics.
        """
        c = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = c.lr_at(self.frames)
        memory = tuple(m.clone() for m in self.pool.prev_memory_states)
        rollout = self.pool.play(c.rollout_len + 1, keep_features=keep_features)
        return train_on_rollout(
            self.agent,
            self.optimizer,
            *rollout[:4],
            memory,
            value_ends=rollout.life_lost if c.cut_at_life_loss else None,
            features=rollout.features,
            **c.update_settings(),
            sync=sync,
        )

    def run(self) -> TrainResult:
        """Train until the frame budget is spent, a signal asks to stop, or training fails."""
        c = self.config
        self._start = time.perf_counter()
        bar = tqdm(
            total=c.frames,
            initial=min(self.frames, c.frames),
            unit="frame",
            unit_scale=True,
            disable=not (c.progress and self.dist.is_main),
            dynamic_ncols=True,
        )
        recent_scores: list[float] = []
        window = _Window()
        try:
            with StopOnSignals() as stop:
                sync = None
                if self.dist.enabled:
                    sync = GradientSync(self.dist, lambda: stop.signum is not None)
                stopping = False  # alone: this process's signal; distributed: any rank's
                try:
                    while self.frames < c.frames and not stopping:
                        t0 = time.perf_counter()
                        metrics = self.iterate(sync)
                        stopping = sync.any_stop if sync else stop.signum is not None
                        self._count_nonfinite(metrics)
                        self.update += 1
                        self.frames += self.frames_per_update
                        scores, lengths = self.pool.pop_episodes()
                        recent_scores = (recent_scores + scores)[-20:]
                        window.add(metrics)
                        window.scores += scores
                        window.lengths += lengths
                        window.frames += c.frames_per_update
                        window.seconds += time.perf_counter() - t0

                        last = self.frames >= c.frames
                        evaluate_now = c.eval_every and (self.update % c.eval_every == 0 or last)
                        if evaluate_now:
                            self._evaluate(stop, final=last)
                        if self.update % c.log_every == 0 or last or evaluate_now:
                            self._write_metrics(window)
                            window = _Window()
                        if not last and not stopping and self._checkpoint_due():
                            self.checkpoint()
                        bar.update(self.frames_per_update)
                        bar.set_postfix(
                            score=f"{np.mean(recent_scores):.0f}" if recent_scores else "-",
                            entropy=f"{metrics['loss/entropy']:.2f}",
                            refresh=False,
                        )
                except KeyboardInterrupt:
                    stop.signum = stop.signum or signal.SIGINT
                    stopping = True
                    window.n = 0 if self.dist.enabled else window.n  # ranks may not agree now
                except RankLost as e:
                    raise TrainingFailed(
                        f"rank {self.dist.rank} lost contact with another rank ({e}); "
                        f"last checkpoint: {self.last_checkpoint or 'see rank 0'}"
                    ) from None
                if stopping:
                    bar.close()
                    if window.n:  # the updates since the last row, so that none goes missing
                        self._write_metrics(window)
                    path = self.checkpoint()
                    raise TrainingInterrupted(
                        self.run_dir, path or self.run_dir, stop.signum or signal.SIGTERM
                    )
            bar.close()
            self.checkpoint()
        finally:
            bar.close()
            self.logger.close()
            self.pool.close()
            self.eval_env.close()
            shutdown(self.dist)
        if self.dist.is_main:
            write_report(self.run_dir)  # plots included
        return TrainResult(
            run_dir=self.run_dir,
            updates=self.update,
            frames=self.frames,
            wall_time_s=self.elapsed(),
            evaluations=self.evaluations,
            agent=self.agent,
        )

    def _count_nonfinite(self, metrics: dict[str, float]) -> None:
        if not metrics["loss/skipped"]:
            self.nonfinite_in_a_row = 0
            return
        self.nonfinite_in_a_row += 1
        print(
            f"warning: non-finite loss or gradient at update {self.update + 1}; update skipped",
            file=sys.stderr,
        )
        if self.nonfinite_in_a_row >= self.config.max_nonfinite:
            kept = self.last_checkpoint or "none was written yet"
            raise TrainingFailed(
                f"{self.nonfinite_in_a_row} non-finite updates in a row at update "
                f"{self.update + 1}; stopped. Last good checkpoint: {kept}"
            )


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
    config.validate()
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
        flags = ", ".join("--" + f.replace("_", "-") for f in fixed)
        raise ConfigError(f"{flags} cannot change when resuming a run; start a new run instead")
    path, payload, skipped = load_newest(run_dir)
    config = Config.from_json(payload["config"])
    run_config = run_dir / "config.json"
    if run_config.is_file():
        recorded = Config.load(run_config)
        if recorded.game != config.game:
            raise CheckpointError(
                f"{path.name} was made for {config.game}, but {run_dir} is a {recorded.game} run"
            )
    config = dataclasses.replace(config, **overrides).validate()
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
