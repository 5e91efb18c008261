"""A run's saved state: what a checkpoint of a Trainer holds, how a resumed run takes it
back, and when and how a new one is written."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from ..agent.networks import RecurrentAgent
from ..algo.rewards import ReturnNormalizer
from ..config import Config
from ..runs.checkpoints import rng_state, save_checkpoint, set_rng_state
from ..runs.errors import CheckpointError
from ..runs.loading import restore_agent
from .distributed import DistInfo
from .outcome import write_failed


class SavedState:
    """The Trainer's counters, weights, optimizer, RNG and reward statistics as a checkpoint
    holds them: `_restore` from one, `_payload` for one, `checkpoint` to write one."""

    agent: RecurrentAgent
    optimizer: torch.optim.Optimizer
    config: Config
    dist: DistInfo
    run_dir: Path
    update: int
    frames: int
    elapsed_before: float
    evaluations: list[dict[str, Any]]
    best_eval: float
    normalizer: ReturnNormalizer | None
    last_checkpoint: Path | None
    last_checkpoint_time: float
    _start: float
    _stopped_at: float | None

    def _restore(self, payload: dict[str, Any]) -> None:
        restore_agent(self.agent, payload, self.run_dir)
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"the checkpoint's optimizer state does not fit ({e})") from None
        self.update = int(payload["update"])
        self.frames = int(payload["frames"])
        self.elapsed_before = float(payload.get("elapsed_s", 0.0))
        self.evaluations = list(payload.get("evaluations", []))
        self.best_eval = max((e["mean"] for e in self.evaluations), default=-math.inf)
        if "rng" in payload:
            set_rng_state(payload["rng"])
        if self.normalizer is not None and "reward_normalizer" in payload:
            # checked with the rest of the checkpoint when it was read (runs.payload)
            self.normalizer.load_state_dict(payload["reward_normalizer"])

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
            **({"reward_normalizer": self.normalizer.state_dict()} if self.normalizer else {}),
        }

    def elapsed(self) -> float:
        """Seconds this run has trained, over all its sessions (frozen once training ends,
        so that the final checkpoint, the report and the last line tell one time)."""
        if self._stopped_at is not None:
            return self._stopped_at
        return self.elapsed_before + time.perf_counter() - self._start

    def checkpoint(self, name: str | None = None) -> Path | None:
        """Save (rank 0 only); a failure to write stops training with the old one intact."""
        if not self.dist.is_main:
            return None
        try:
            path = save_checkpoint(
                self._payload(), self.run_dir, self.update, self.config.keep_checkpoints, name
            )
        except OSError as e:  # CheckpointWriteError: the temporary file is gone already
            raise write_failed(e, self.run_dir, "a checkpoint") from None
        if name is None:
            self.last_checkpoint = path
            self.last_checkpoint_time = time.monotonic()
        return path

    def _checkpoint_due(self) -> bool:
        c = self.config
        by_minutes = time.monotonic() - self.last_checkpoint_time >= c.checkpoint_minutes * 60
        return self.update % c.checkpoint_every == 0 or by_minutes
