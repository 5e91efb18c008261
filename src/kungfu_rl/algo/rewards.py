"""How game rewards enter the loss (`--reward-mode`): scaled, clipped, or normalized.

`scale` and `clip` are pure functions of one rollout (`rewards_for_loss`). `normalize` needs
what came before: `ReturnNormalizer` keeps each game's running discounted return and a running
variance over all of them, and divides rewards by that deviation, so that games whose points
come in hundreds (Kung-Fu Master) and in ones (Pong) give returns of one size, and a reward's
size against the game's others is kept (clipping loses it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

EPSILON = 1e-8

Moments = tuple[float, float, float]
"""(count, mean, variance) of a batch of returns."""


def rewards_for_loss(rewards: torch.Tensor, mode: str, scale: float) -> torch.Tensor:
    """rewards [T, B] as the loss sees them: times `scale` ("scale"), clipped to [-1, 1]
    ("clip"), or as given ("normalize": `train_on_rollout`'s ReturnNormalizer divided them)."""
    if mode == "scale":
        return rewards * scale
    if mode == "clip":
        return rewards.clamp(-1.0, 1.0)
    if mode == "normalize":
        return rewards
    raise ValueError(f"unknown reward mode {mode!r}")


class ReturnNormalizer:
    """Rewards divided by the running standard deviation of the discounted return.

    Every game b keeps G_b = gamma * G_b + r (zeroed after its game ends); the mean and
    variance of every G seen are merged batch by batch (Chan et al.'s parallel update). The
    deviation is of the return, not the reward, so that the value targets, which sum rewards,
    come out near unit size. State (`state_dict`) goes into checkpoints; the per-game returns
    do not (a resumed run plays new games).

    `gather`, in a distributed run, gives every rank's moments of its batch in rank order
    (`training.distributed.MomentsGather`): each rank merges all of them, in that order, so
    that every rank keeps the same statistics, those of all the games of the run.
    """

    def __init__(
        self, n_games: int, gamma: float, gather: Callable[[Moments], list[Moments]] | None = None
    ):
        self.gamma = gamma
        self.gather = gather
        self.returns = np.zeros(n_games, dtype=np.float64)  # [B]
        self.count = 0.0
        self.mean = 0.0
        self.var = 1.0

    def __call__(self, rewards: np.ndarray, is_not_done: np.ndarray) -> np.ndarray:
        """rewards, is_not_done [B, T] (the pool's layout) -> float32 [B, T] normalized
        rewards; the statistics take in these T steps of every game first."""
        seen = np.empty(rewards.shape, dtype=np.float64)  # [B, T]
        for t in range(rewards.shape[1]):
            self.returns = self.returns * self.gamma + rewards[:, t]
            seen[:, t] = self.returns
            self.returns *= is_not_done[:, t]
        x = seen.ravel()
        batch = (float(x.size), float(x.mean()), float(x.var()))
        for moments in self.gather(batch) if self.gather else [batch]:
            self._merge(*moments)
        return (rewards / np.sqrt(self.var + EPSILON)).astype(np.float32)

    def _merge(self, n: float, mean: float, var: float) -> None:
        total = self.count + n
        delta = mean - self.mean
        m2 = self.var * self.count + var * n + delta**2 * self.count * n / total
        self.mean += delta * n / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, float]:
        return {"count": self.count, "mean": self.mean, "var": self.var}

    def load_state_dict(self, state: Any) -> None:
        """Statistics from `state_dict`; ValueError if they are not three finite numbers
        with count >= 0 and var >= 0."""
        try:
            count, mean, var = (float(state[k]) for k in ("count", "mean", "var"))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"reward statistics that are not numbers ({e})") from None
        if not all(np.isfinite((count, mean, var))) or count < 0 or var < 0:
            raise ValueError(f"reward statistics out of range: {state!r}"[:120])
        self.count, self.mean, self.var = count, mean, var
