"""EnvPool: many games stepped together, each with its own recurrent memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ale_py.vector_env import AtariVectorEnv

from .agent import MemoryState, RecurrentAgent
from .envs import AtariGame, GameSettings, make_env, preprocess, rom_id


def atari_vector_env(settings: GameSettings, n_games: int, threads: int = 0) -> AtariVectorEnv:
    """ale-py's C++ vector env playing `settings` exactly as `AtariGame` does.

    Its defaults differ from ALE v5, so each is set on purpose: full 210×160 grayscale frames
    (it has no crop; `preprocess` crops and resizes in batch), no max-pool or frame stack,
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
        maxpool=False,
        frameskip=settings.frameskip,
        repeat_action_probability=settings.repeat_action_probability,
        noop_max=settings.noop_max,
        max_num_frames_per_episode=settings.max_frames,
        reward_clipping=False,
        episodic_life=False,
        use_fire_reset=False,
        autoreset_mode="SameStep",
    )


class EnvPool:
    """`n_parallel_games` games played by one agent, as in the course notebook.

    With the package's `make_env` the games run in ale-py's `AtariVectorEnv` (C++ threads);
    any other env factory runs in a gymnasium `SyncVectorEnv`. The pool keeps each game's
    LSTM memory in `prev_memory_states` and zeroes it when that game ends.
    Finished games' raw scores and lengths collect in `episode_scores` / `episode_lengths`.
    """

    def __init__(
        self,
        agent: RecurrentAgent,
        make_env: Callable[[], gym.Env] = make_env,
        n_parallel_games: int = 16,
        *,
        seed: int | None = None,
        env_threads: int = 0,
    ):
        if n_parallel_games < 1:
            raise ValueError(f"n_parallel_games must be >= 1, got {n_parallel_games}")
        self.agent = agent
        self.n_games = n_parallel_games
        probe = make_env()
        self.observation_space = probe.observation_space
        self.action_space = probe.action_space
        self.settings: GameSettings | None = getattr(probe, "settings", None)
        probe.close()
        if isinstance(probe, AtariGame):
            self.env: Any = atari_vector_env(self.settings, n_parallel_games, env_threads)
        else:
            self.env = gym.vector.SyncVectorEnv(
                [make_env] * n_parallel_games,
                autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
            )
        obs, _ = self.env.reset(seed=seed)
        self.prev_observations = self._observe(obs)  # [B, C, H, W]
        self.prev_memory_states: MemoryState = agent.get_initial_state(n_parallel_games)
        self._scores = np.zeros(n_parallel_games)
        self._lengths = np.zeros(n_parallel_games, dtype=np.int64)
        self.episode_scores: list[float] = []
        self.episode_lengths: list[int] = []

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        """The vector env's observations -> the agent's, [B, C, H, W]."""
        if isinstance(self.env, AtariVectorEnv):
            return preprocess(obs[:, 0], self.settings.crop)  # [B, 210, 160] -> [B, 1, 42, 42]
        return np.asarray(obs)

    def interact(self, n_steps: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Play `n_steps - 1` steps of every game, as the notebook's `interact`.

        Returns (observations [B, n, C, H, W], actions [B, n], rewards [B, n],
        is_not_done [B, n]). Entry n - 1 holds the observation to bootstrap from with a
        placeholder action 0, reward 0 and mask 1; it is also the first observation of the
        next call. is_not_done[b, t] = 0 exactly where game b ended at step t; its memory is
        zeroed before its next step. The arrays are [B, T] views of time-major buffers:
        `.swapaxes(0, 1)` gives the [T, B] layout without a copy.
        """
        if n_steps < 2:
            raise ValueError(f"interact needs n_steps >= 2, got {n_steps}")
        B = self.n_games
        obs_buf = np.empty((n_steps, *self.prev_observations.shape), self.prev_observations.dtype)
        actions = np.zeros((n_steps, B), dtype=np.int64)
        rewards = np.zeros((n_steps, B), dtype=np.float32)
        is_not_done = np.ones((n_steps, B), dtype=np.float32)
        for t in range(n_steps - 1):
            obs_buf[t] = self.prev_observations
            memory, readout = self.agent.step(self.prev_memory_states, self.prev_observations)
            actions[t] = self.agent.sample_actions(readout)
            obs, reward, terminated, truncated, _ = self.env.step(actions[t])
            done = np.logical_or(terminated, truncated)
            rewards[t] = reward
            is_not_done[t] = ~done
            self._track_episodes(reward, done)
            keep = torch.as_tensor(~done, dtype=memory[0].dtype, device=memory[0].device)
            self.prev_memory_states = (memory[0] * keep[:, None], memory[1] * keep[:, None])
            self.prev_observations = self._observe(obs)
        obs_buf[n_steps - 1] = self.prev_observations
        return tuple(x.swapaxes(0, 1) for x in (obs_buf, actions, rewards, is_not_done))

    def _track_episodes(self, reward: np.ndarray, done: np.ndarray) -> None:
        self._scores += reward
        self._lengths += 1
        for b in np.flatnonzero(done):
            self.episode_scores.append(float(self._scores[b]))
            self.episode_lengths.append(int(self._lengths[b]))
        self._scores[done] = 0.0
        self._lengths[done] = 0

    def pop_episodes(self) -> tuple[list[float], list[int]]:
        """Scores and lengths of the games finished since the last call."""
        scores, lengths = self.episode_scores, self.episode_lengths
        self.episode_scores, self.episode_lengths = [], []
        return scores, lengths

    def close(self) -> None:
        self.env.close()
