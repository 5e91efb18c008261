"""Many games stepped together: ale-py's C++ vector env, or gymnasium's for any other env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ale_py.vector_env import AtariVectorEnv

from .games import GameSettings, rom_id


def atari_vector_env(settings: GameSettings, n_games: int, threads: int = 0) -> AtariVectorEnv:
    """ale-py's C++ vector env playing `settings` exactly as `AtariGame` does.

    Its defaults differ from ALE v5, so each is set on purpose: full 210×160 grayscale frames
    (it has no crop; `preprocess` crops and resizes in batch), the max-pool of the
    last two frames only with `max_pool`, no frame stack,
    raw rewards, no fire on reset, the game's sticky actions and no-op starts, and a game
    that ends is reset in the same step (the returned observation starts the next game).
    """
    return AtariVectorEnv(
        rom_id(settings.game),
        n_games,
        num_threads=threads,
        img_height=210,
        img_width=160,
        grayscale=True,
        stack_num=1,
        maxpool=settings.max_pool,
        frameskip=settings.frameskip,
        repeat_action_probability=settings.repeat_action_probability,
        noop_max=settings.noop_max,
        max_num_frames_per_episode=settings.max_frames,
        reward_clipping=False,
        episodic_life=False,
        use_fire_reset=False,
        autoreset_mode="SameStep",
    )


class SendRecv:
    """A gymnasium vector env with AtariVectorEnv's send/recv: recv does the step."""

    def __init__(self, env: gym.vector.VectorEnv):
        self.env = env
        self.actions: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        return self.env.reset(**kwargs)

    def send(self, actions: np.ndarray) -> None:
        self.actions = actions

    def recv(self) -> tuple[Any, ...]:
        return self.env.step(self.actions)

    def close(self) -> None:
        self.env.close()
