"""The training loop: interact, replay and update, evaluate, log, checkpoint."""

from __future__ import annotations

import functools
import os
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from .agent import RecurrentAgent
from .checkpoint import rng_state, save_checkpoint
from .config import Config, ConfigError
from .envs import AtariGame
from .evaluate import evaluate, summarize
from .logger import MetricsLogger
from .plots import plot_learning_curves
from .pool import EnvPool
from .update import train_on_rollout


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped training; a checkpoint was written first."""

    def __init__(self, run_dir: Path, checkpoint: Path):
        super().__init__(f"interrupted; checkpoint {checkpoint}")
        self.run_dir = run_dir
        self.checkpoint = checkpoint


@dataclass
class TrainResult:
    run_dir: Path
    updates: int
    frames: int
    wall_time_s: float
    evaluations: list[dict[str, Any]] = field(default_factory=list)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def build_agent(config: Config, obs_shape: tuple[int, ...], n_actions: int) -> RecurrentAgent:
    return RecurrentAgent(
        obs_shape, n_actions, core=config.core, hidden=config.hidden, channels=config.channels
    )


def env_factory(config: Config) -> functools.partial[AtariGame]:
    """The one way this run makes a game, for the pool and for evaluation alike."""
    return functools.partial(AtariGame, config.game_settings)


def make_run_dir(config: Config) -> Path:
    """Create runs/<game>-<stamp>/ and prove it can be written, before any training."""
    name = config.run_name or f"{config.game}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = Path(config.runs_dir) / name
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise ConfigError(f"cannot write the run folder {run_dir}: {e.strerror or e}") from None
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


def train(config: Config) -> TrainResult:
    """Train an agent with `config`; returns where the run was written and what it did.

    Raises ConfigError for settings that cannot work (before anything is written) and
    TrainingInterrupted after Ctrl-C, once a checkpoint is safely on disk.
    """
    config.validate()
    device = pick_device(config.device)
    cores = os.cpu_count() or 1
    torch.set_num_threads(config.torch_threads or cores)
    seed_everything(config.seed)
    run_dir = make_run_dir(config)
    (run_dir / "config.json").write_text(config.to_json())

    make_game = env_factory(config)
    eval_env = make_game()
    agent = build_agent(config, eval_env.observation_space.shape, eval_env.action_space.n)
    agent.to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=config.lr)
    pool = EnvPool(
        agent, make_game, config.n_games, seed=config.seed, env_threads=config.env_threads or cores
    )
    logger = MetricsLogger(run_dir)
    bar = tqdm(
        total=config.frames,
        unit="frame",
        unit_scale=True,
        disable=not config.progress,
        dynamic_ncols=True,
    )
    update_kwargs = {
        k: getattr(config, k)
        for k in (
            "gamma",
            "gae_lambda",
            "entropy_coef",
            "value_coef",
            "reward_scale",
            "max_grad_norm",
        )
    }

    update, frames = 0, 0
    evaluations: list[dict[str, Any]] = []
    recent_scores: deque[float] = deque(maxlen=20)
    window = _Window()
    start = time.perf_counter()

    def checkpoint() -> Path:
        payload = {
            "model": agent.state_dict(),
            "optimizer": optimizer.state_dict(),
            "update": update,
            "frames": frames,
            "elapsed_s": time.perf_counter() - start,
            "config": config.to_json(),
            "rng": rng_state(),
            "evaluations": [dict(e) for e in evaluations],
        }
        return save_checkpoint(payload, run_dir, update, config.keep_checkpoints)

    def run_evaluation() -> None:
        agent.eval()
        scores = evaluate(agent, eval_env, config.eval_games)
        agent.train()
        stats = summarize(scores)
        evaluations.append({"update": update, "frames": frames, **stats})
        for k, v in stats.items():
            logger.record(f"eval/score_{k}", v)

    try:
        while frames < config.frames:
            t0 = time.perf_counter()
            memory = tuple(m.clone() for m in pool.prev_memory_states)
            rollout = pool.interact(config.rollout_len + 1)
            metrics = train_on_rollout(agent, optimizer, *rollout, memory, **update_kwargs)
            update += 1
            frames += config.frames_per_update
            scores, lengths = pool.pop_episodes()
            recent_scores.extend(scores)
            window.add(metrics)
            window.scores += scores
            window.lengths += lengths
            window.frames += config.frames_per_update
            window.seconds += time.perf_counter() - t0

            last = frames >= config.frames
            evaluate_now = config.eval_every and (update % config.eval_every == 0 or last)
            if evaluate_now:
                run_evaluation()
            if update % config.log_every == 0 or last or evaluate_now:
                window.write(logger)
                logger.record("time/elapsed_s", time.perf_counter() - start)
                logger.dump(update, frames)
                window = _Window()
            if update % config.checkpoint_every == 0 and not last:
                checkpoint()
            bar.update(config.frames_per_update)
            bar.set_postfix(
                score=f"{np.mean(recent_scores):.0f}" if recent_scores else "-",
                entropy=f"{metrics['loss/entropy']:.2f}",
                refresh=False,
            )
    except KeyboardInterrupt:
        bar.close()
        path = checkpoint()
        logger.close()
        pool.close()
        raise TrainingInterrupted(run_dir, path) from None

    bar.close()
    checkpoint()
    logger.close()
    pool.close()
    eval_env.close()
    plot_learning_curves(
        run_dir / "metrics.csv",
        run_dir / "plots" / "learning_curves.png",
        title=f"{config.game} ({run_dir.name})",
    )
    return TrainResult(
        run_dir=run_dir,
        updates=update,
        frames=frames,
        wall_time_s=time.perf_counter() - start,
        evaluations=evaluations,
    )
