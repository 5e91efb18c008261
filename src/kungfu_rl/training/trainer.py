"""The training loop: play a rollout of every game, update, evaluate, log, checkpoint.

`launch.py` starts a run or resumes one and hands it a `Trainer`; this module holds what a
run does once it has one. What it saves and restores is `state.py`'s, how it evaluates
`evaluation.py`'s, how it ends `outcome.py`'s.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..agent.pool import EnvPool
from ..algo.rewards import ReturnNormalizer
from ..algo.update import train_on_rollout
from ..config import Config
from ..envs.atari import AtariGame
from ..runs.checkpoints import (
    remove_partial_checkpoints,
)
from ..runs.files import write_config
from ..runs.loading import build_agent, env_factory
from ..runs.metrics import MetricsLogger, frames_per_second, truncate_metrics
from ..runs.report import write_report
from ..runtime.machine import (
    cores,
    pick_device,
    pick_precision,
    seed_everything,
    set_up_process,
)
from .distributed import (
    DistInfo,
    GradientSync,
    MomentsGather,
    RankLost,
    broadcast_parameters,
    gather_lists,
    shutdown,
)
from .evaluation import EvaluationDuringTraining
from .outcome import TrainingFailed, TrainingInterrupted, TrainResult, newest_checkpoint
from .progress import Progress
from .state import SavedState
from .stopping import StopOnSignals


def _quiet_writer_threads() -> None:
    """TensorBoard writes its events from a thread of its own; a write that fails there (a
    full disk) is raised again at the trainer's next flush and reported as one line, so the
    thread's own traceback is left out. Other threads' errors are reported as usual."""
    previous = threading.excepthook
    if getattr(previous, "quiets_writer_threads", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        writer = type(args.thread).__name__ == "_AsyncWriterThread"
        if not (writer and issubclass(args.exc_type, OSError)):
            previous(args)

    hook.quiets_writer_threads = True  # type: ignore[attr-defined]
    threading.excepthook = hook


class _Window:
    """Averages of update metrics and the games finished between two metrics rows."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.sums: dict[str, float] = {}
        self.n = 0
        self.scores: list[float] = []
        self.lengths: list[int] = []
        self.frames = 0
        self.started = time.perf_counter()

    def add(self, metrics: dict[str, float], pool: EnvPool, frames: int) -> list[float]:
        """One update's metrics, the games the pool finished during it (their scores are
        returned) and its frames."""
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.n += 1
        scores, lengths = pool.pop_episodes()
        self.scores += scores
        self.lengths += lengths
        self.frames += frames
        return scores

    def write(self, logger: MetricsLogger | _NullLogger) -> None:
        for k, v in self.sums.items():
            logger.record(k, v if k == "loss/skipped" else v / max(self.n, 1))
        logger.record("rollout/episodes", len(self.scores))
        logger.record("rollout/episode_score", np.mean(self.scores) if self.scores else np.nan)
        logger.record("rollout/episode_length", np.mean(self.lengths) if self.lengths else np.nan)
        # frames per second of wall clock since the last row, evaluations and checkpoints
        # included: the one frames/s of the package (the last line, the report, the progress)
        seconds = time.perf_counter() - self.started
        logger.record("time/fps", frames_per_second(self.frames, seconds))


class _NullLogger:
    """What ranks other than 0 log to: nothing."""

    def record(self, key: str, value: float) -> None:
        pass

    def dump(self, update: int, frames: int) -> None:
        pass

    def close(self) -> None:
        pass


class Trainer(SavedState, EvaluationDuringTraining):
    """One training run: its agent, optimizer, games, counters, logs and checkpoints.

    In a distributed run every rank has a Trainer with its own games; rank 0 alone writes.
    """

    def __init__(
        self,
        config: Config,
        run_dir: Path,
        resume_from: dict[str, Any] | None = None,
        dist_info: DistInfo | None = None,
        progress: bool | None = None,
    ):
        """`progress`: a bar (True), plain lines (False) or a bar only on a terminal (None);
        a display setting, not part of the run."""
        self.run_dir = run_dir
        self.dist = dist_info or DistInfo()
        self.show_bar = progress
        self.device = pick_device(config.device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        # what is used, not "auto": recorded in config.json, checkpoints and the report
        precision = pick_precision(config.precision, self.device)
        self.config = config = dataclasses.replace(
            config, device=self.device.type, precision=precision
        )
        self._threads_before = set_up_process(config)  # given back when run() ends
        try:
            self._build(config, resume_from)
        except BaseException:
            torch.set_num_threads(self._threads_before)  # as run() would have
            raise

    def _build(self, config: Config, resume_from: dict[str, Any] | None) -> None:
        """The network, optimizer, counters (restored on a resume), games and logs."""
        seed_everything(config.seed)
        make_game = env_factory(config)
        self.eval_env = make_game()
        space = self.eval_env.observation_space.shape, self.eval_env.action_space.n
        self.agent = build_agent(config, *space, self.device)
        self.optimizer = torch.optim.Adam(
            self.agent.parameters(), lr=config.lr, eps=config.adam_eps
        )
        broadcast_parameters(self.dist, self.agent)

        self.update = 0
        self.frames = 0
        self.elapsed_before = 0.0  # seconds trained in earlier sessions of this run
        self.evaluations: list[dict[str, Any]] = []
        self.best_eval = -math.inf
        self.nonfinite_in_a_row = 0
        self.normalizer = None
        if config.reward_mode == "normalize":
            # under torchrun the ranks merge each other's statistics: one set for the run
            gather = MomentsGather(self.dist, self.device) if self.dist.enabled else None
            self.normalizer = ReturnNormalizer(config.n_games, config.gamma, gather)
        if resume_from is not None:
            self._restore(resume_from)
        self.pool = self._start_games(config, make_game)
        self.frames_per_update = config.frames_per_update * self.dist.world_size  # all ranks
        self.logger: MetricsLogger | _NullLogger = _NullLogger()
        if self.dist.is_main:
            _quiet_writer_threads()
            if resume_from is not None:
                truncate_metrics(self.run_dir / "metrics.csv", self.update)
                remove_partial_checkpoints(self.run_dir)
            self.logger = MetricsLogger(self.run_dir, purge_after_frames=self.frames)
            write_config(self.run_dir, config, update=self.update, frames=self.frames)
        self.last_checkpoint: Path | None = None
        self.last_checkpoint_time = time.monotonic()
        self._start = time.perf_counter()
        self._stopped_at: float | None = None

    def _start_games(self, config: Config, make_game: Callable[[], AtariGame]) -> EnvPool:
        """This rank's games. A resumed run plays new ones (the emulators' states are not in
        the checkpoint), seeded from the update count; every rank plays its own."""
        if self.dist.enabled:
            # each rank samples its own actions: its own RNG stream, new at every resume
            seed_everything(config.seed + self.dist.rank + 7919 * self.update)
        first_game = (self.update * self.dist.world_size + self.dist.rank) * config.n_games
        return EnvPool(
            self.agent,
            make_game,
            config.n_games,
            seed=config.seed + first_game,
            env_threads=config.env_threads or cores(),
            overlap=config.overlap,
            acting_threads=config.acting_threads or None,
        )

    # --- one iteration ---------------------------------------------------------------------

    def iterate(self, sync: GradientSync | None = None) -> dict[str, float]:
        """One iteration: play a rollout of every game, then one update from it.

        The rollout keeps uint8 pixels (the agent scales them at its first layer); the
        replay runs the conv stack on all T×B frames in one call. Returns the metrics.
        """
        c = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = c.lr_at(self.frames)
        memory = tuple(m.clone() for m in self.pool.prev_memory_states)
        clipped = c.update_settings.clipped  # PPO's update takes π_old from acting
        rollout = self.pool.play(c.rollout_len + 1, policy=clipped)
        return train_on_rollout(
            self.agent,
            self.optimizer,
            rollout.observations,
            rollout.actions,
            rollout.rewards,
            rollout.is_not_done,
            memory,
            c.update_settings,
            normalizer=self.normalizer,
            value_ends=rollout.life_lost if c.cut_at_life_loss else None,
            forced=rollout.forced if c.press_fire else None,
            behaviour=(rollout.log_pi, rollout.values) if clipped else None,
            sync=sync,
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

    # --- metrics ---------------------------------------------------------------------------

    def _write_metrics(self, window: _Window) -> None:
        """One metrics row of every rank's window (rank 0 writes it); the window starts anew."""
        window.scores = gather_lists(self.dist, window.scores)
        window.lengths = gather_lists(self.dist, window.lengths)
        window.frames *= self.dist.world_size
        window.write(self.logger)
        self.logger.record("loss/lr", self.optimizer.param_groups[0]["lr"])  # the last update's
        self.logger.record("time/elapsed_s", self.elapsed())
        self.logger.dump(self.update, self.frames)
        window.clear()

    def _after_update(self, stop: StopOnSignals, window: _Window, stopping: bool) -> None:
        """What is due after an update: an evaluation, a metrics row, a checkpoint."""
        c = self.config
        last = self.frames >= c.frames
        evaluate_now = self._evaluation_due(last)
        if evaluate_now:
            self._evaluate(stop, final=last)
        if self.update % c.log_every == 0 or last or evaluate_now:
            self._write_metrics(window)
        if not last and not stopping and self._checkpoint_due():
            self.checkpoint()

    # --- the run ------------------------------------------------------------------------

    def run(self) -> TrainResult:
        """Train until the frame budget is spent, a signal asks to stop, or training fails."""
        self._start = time.perf_counter()
        self.progress = Progress(
            self.config.frames, self.frames, bar=self.show_bar, enabled=self.dist.is_main
        )
        self.progress.say(
            f"training in {self.run_dir} (watch it live: tensorboard --logdir {self.run_dir})"
        )
        try:
            with StopOnSignals() as stop:
                self._train(stop)
            self._stopped_at = self.elapsed()
            self.checkpoint()
        finally:
            torch.set_num_threads(self._threads_before)
            self.progress.close()
            self.pool.close()
            self.eval_env.close()
            shutdown(self.dist)
            self.logger.close()  # last: on a full disk its flush fails too
        if self.dist.is_main:
            write_report(self.run_dir)  # plots included
        return TrainResult(
            run_dir=self.run_dir,
            config=self.config,
            is_main=self.dist.is_main,
            updates=self.update,
            frames=self.frames,
            wall_time_s=self.elapsed(),
            evaluations=self.evaluations,
            agent=self.agent,
        )

    def _train(self, stop: StopOnSignals) -> None:
        """Updates until the budget is spent; after a stop signal, a checkpoint and
        TrainingInterrupted. In a distributed run all ranks stop after the same update."""
        sync = None
        if self.dist.enabled:
            sync = GradientSync(self.dist, lambda: stop.signum is not None)
        window = _Window()
        recent_scores: list[float] = []  # the last 20 training games, for the progress
        stopping = False
        try:
            while self.frames < self.config.frames and not stopping:
                metrics = self.iterate(sync)
                stopping = sync.any_stop if sync else stop.signum is not None
                self._count_nonfinite(metrics)
                self.update += 1
                self.frames += self.frames_per_update
                scores = window.add(metrics, self.pool, self.config.frames_per_update)
                recent_scores = (recent_scores + scores)[-20:]
                self._after_update(stop, window, stopping)
                score = f"{np.mean(recent_scores):,.0f}" if recent_scores else "-"
                entropy = f"{metrics['loss/entropy']:.2f}"
                self.progress.update(self.frames, score=score, entropy=entropy)
        except KeyboardInterrupt:
            stop.signum = stop.signum or signal.SIGINT
            stopping = True
            if self.dist.enabled:
                window.clear()  # the ranks may not agree on the window now
        except RankLost as e:
            if self.dist.is_main:
                newest = newest_checkpoint(self.run_dir)
                kept = f"last checkpoint: {newest}" if newest else "no checkpoint yet"
            else:
                kept = "rank 0 has the checkpoints"
            raise TrainingFailed(
                f"rank {self.dist.rank} lost contact with another rank ({e}); {kept}"
            ) from None
        if stopping:
            self.progress.close()
            if window.n:  # the updates since the last row, so that none goes missing
                self._write_metrics(window)
            path = self.checkpoint()
            signum = stop.signum or signal.SIGTERM
            raise TrainingInterrupted(self.run_dir, path or self.run_dir, signum)
