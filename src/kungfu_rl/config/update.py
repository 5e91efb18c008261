"""The settings of one update (`algo.update.train_on_rollout`), whose defaults are Config's."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Config

_DEFAULT = Config()


@dataclass(frozen=True)
class UpdateSettings:
    """The settings of one update (`train_on_rollout`); every default is Config's."""

    gamma: float = _DEFAULT.gamma
    gae_lambda: float = _DEFAULT.gae_lambda
    entropy_coef: float = _DEFAULT.entropy_coef
    value_coef: float = _DEFAULT.value_coef
    reward_mode: str = _DEFAULT.reward_mode
    reward_scale: float = _DEFAULT.reward_scale
    max_grad_norm: float = _DEFAULT.max_grad_norm
    epochs: int = _DEFAULT.epochs
    minibatches: int = _DEFAULT.minibatches
    clip_range: float = _DEFAULT.clip_range
    clip_value: bool = _DEFAULT.clip_value
    minibatch_steps: bool = _DEFAULT.minibatch_steps

    @property
    def clipped(self) -> bool:
        """Whether the update is PPO's (π_old, clipped ratio, several steps per rollout):
        the one place that decides it."""
        return self.epochs > 1 or self.minibatches > 1
