"""EnvPool: many games stepped together, each with its own recurrent memory."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from ..envs.atari import AtariGame, make_env
from ..envs.games import GameSettings
from ..envs.preprocessing import preprocess, push_frames
from ..envs.vector import SendRecv, atari_vector_env
from ..runtime.machine import torch_threads
from .memory import Memory, reset_memory
from .networks import RecurrentAgent


class Rollout(NamedTuple):
    """What `EnvPool.play(n)` returns; every array is [B, n] (observations [B, n, C, H, W]).

    Entry n - 1 holds only the observation to bootstrap from (action 0, reward 0, masks 1).
    is_not_done[b, t] = 0 where game b ended at step t (its memory is zeroed after it);
    life_lost[b, t] = 1 where game b lost a life at step t and goes on;
    forced[b, t] = 1 where the pool pressed FIRE itself at step t (press_fire: a game's first
    step and the step after a lost life), whatever the policy sampled.
    Atari observations are uint8 pixels here (the trainer's fast path; the agent divides
    by 255 at its first layer, then standardises each frame by default);
    `EnvPool.interact` gives them as `make_env` does.
    With `play(n, policy=True)`, `log_pi` holds log π(a_t|s_t) of each action taken (entry
    n - 1: 0) and `values` V(s_t) of each observation, entry n - 1 included, both as the
    acting network gave them; otherwise both are None.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    is_not_done: np.ndarray
    life_lost: np.ndarray
    forced: np.ndarray
    log_pi: np.ndarray | None = None
    values: np.ndarray | None = None


def _chosen(
    readout: tuple[torch.Tensor, torch.Tensor], actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The acting network's (logits [B, A], values [B]) and the actions taken [B] ->
    (log π(a|s) [B], V(s) [B]), float32 numpy."""
    logits, value = readout
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    chosen = log_probs.gather(-1, torch.as_tensor(actions, device=logits.device)[:, None])
    return chosen[:, 0].cpu().numpy(), value.float().cpu().numpy()


class EnvPool:
    """`n_parallel_games` games played by one agent, as in the course notebook.

    With the package's `make_env` the games run in ale-py's `AtariVectorEnv` (C++ threads);
    any other env factory runs in a gymnasium `SyncVectorEnv`. The pool keeps each game's
    recurrent memory in `prev_memory_states` (a tuple of [B, hidden] tensors, as the agent's
    `get_initial_state` gives) and zeroes it when that game ends.
    Finished games' raw scores and lengths collect in `episode_scores` / `episode_lengths`.

    `overlap=True` (Atari games only, n_parallel_games >= 2) splits the games into two
    vector envs: while one half steps in the emulator's threads, the network picks the
    other half's actions. Every game sees the same observations, memory and policy as
    without it (tested); only the order in which actions are sampled changes.
    """

    def __init__(
        self,
        agent: RecurrentAgent,
        make_env: Callable[[], gym.Env] = make_env,
        n_parallel_games: int = 16,
        *,
        seed: int | None = None,
        env_threads: int = 0,
        overlap: bool = False,
        acting_threads: int | None = None,
    ):
        if n_parallel_games < 1:
            raise ValueError(f"n_parallel_games must be >= 1, got {n_parallel_games}")
        self.agent = agent
        self.n_games = B = n_parallel_games
        self.acting_threads = acting_threads
        probe = make_env()
        self.observation_space = probe.observation_space
        self.action_space = probe.action_space
        self.settings: GameSettings | None = getattr(probe, "settings", None)
        probe.close()
        self.atari = isinstance(probe, AtariGame)
        self.fire = probe.fire if self.atari else None  # FIRE's index with press_fire
        # each game's next action is FIRE: at a game's start and after a lost life
        self._fire_next = np.full(B, self.fire is not None)
        splits = [0, B // 2, B] if overlap and self.atari and B >= 2 else [0, B]
        self.slices = [slice(a, b) for a, b in itertools.pairwise(splits)]
        if self.atari:
            self.envs: list[Any] = [
                atari_vector_env(self.settings, s.stop - s.start, env_threads) for s in self.slices
            ]
        else:
            self.envs = [
                SendRecv(
                    gym.vector.SyncVectorEnv(
                        [make_env] * B, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
                    )
                )
            ]
        first = []
        self._lives = np.zeros(B, dtype=np.int64)
        for env, sl in zip(self.envs, self.slices, strict=True):
            # game b is seeded with seed + b, with or without the split; the emulator takes
            # seeds below 2**31, and a resumed long run's (seed + games played) may not be
            start = None if seed is None else (seed + sl.start) % (2**31 - B)
            obs, info = env.reset(seed=start)
            first.append(self._observe(obs))
            if self.atari:  # each game's stack starts as its first frame, k times
                first[-1] = np.repeat(first[-1], self.settings.frame_stack, axis=1)
            self._lives[sl] = info.get("lives", 0)
        self.prev_observations = np.concatenate(first)  # [B, C, H, W]
        self.prev_memory_states: Memory = agent.get_initial_state(B)
        self._scores = np.zeros(B)
        self._lengths = np.zeros(B, dtype=np.int64)
        self.episode_scores: list[float] = []
        self.episode_lengths: list[int] = []

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        """The vector env's observations -> the agent's, [B, C, H, W]: for Atari games the
        newest frame only, [B, 1, S, S], which `push_frames` adds to each game's stack."""
        if self.atari:
            # [B, 210, 160] -> [B, 1, S, S], S = --frame-size
            s = self.settings
            return preprocess(obs[:, 0], s.crop, s.resize, s.frame_size)
        return np.asarray(obs)

    def interact(self, n_steps: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Play `n_steps - 1` steps of every game, as the notebook's `interact`.

        Returns (observations [B, n, C, H, W], actions [B, n], rewards [B, n],
        is_not_done [B, n]): the first four fields of `play`, which see, with the
        observations as `make_env` gives them: float32 in [0, 1] for Atari games.
        """
        rollout = self.play(n_steps)
        observations = rollout.observations
        if observations.dtype == np.uint8:  # the same values as AtariGame.observation, bit for bit
            observations = observations.astype(np.float32) / np.float32(255.0)
        return observations, rollout.actions, rollout.rewards, rollout.is_not_done

    def play(self, n_steps: int = 100, policy: bool = False) -> Rollout:
        """Play `n_steps - 1` steps of every game; a `Rollout` of [B, n_steps] arrays.

        Entry n - 1 holds the observation to bootstrap from with a placeholder action 0,
        reward 0 and masks 1; it is also the first observation of the next call. A game
        that ends at step t has its memory zeroed before its next step. The arrays are
        [B, T] views of time-major buffers: `.swapaxes(0, 1)` gives [T, B] without a copy.
        `policy=True` also keeps what the network said while acting (`Rollout.log_pi`,
        `Rollout.values`), at the cost of one more network step for V(s_{n-1}).
        """
        if n_steps < 2:
            raise ValueError(f"interact needs n_steps >= 2, got {n_steps}")
        with torch_threads(self.acting_threads):
            return self._play(n_steps, policy)

    def _play(self, n_steps: int, policy: bool) -> Rollout:
        B = self.n_games
        obs_buf = np.empty((n_steps, *self.prev_observations.shape), self.prev_observations.dtype)
        actions = np.zeros((n_steps, B), dtype=np.int64)
        rewards = np.zeros((n_steps, B), dtype=np.float32)
        is_not_done = np.ones((n_steps, B), dtype=np.float32)
        life_lost = np.zeros((n_steps, B), dtype=np.float32)
        forced = np.zeros((n_steps, B), dtype=np.float32)
        log_pi = np.zeros((n_steps, B), dtype=np.float32) if policy else None
        values = np.zeros((n_steps, B), dtype=np.float32) if policy else None
        # each half's memory, every tensor [B_half, hidden]
        memory = [tuple(m[sl] for m in self.prev_memory_states) for sl in self.slices]
        in_flight = [False] * len(self.slices)

        def receive(half: int, t: int) -> None:
            sl = self.slices[half]
            # in sync mode (batch_size = its games) a vector env answers in game order
            obs, reward, terminated, truncated, info = self.envs[half].recv()
            done = np.logical_or(terminated, truncated)
            rewards[t, sl] = reward
            is_not_done[t, sl] = ~done
            lives = info.get("lives")
            if lives is not None:
                life_lost[t, sl] = (lives < self._lives[sl]) & ~done
                self._lives[sl] = lives
            if self.fire is not None:
                self._fire_next[sl] = done | (life_lost[t, sl] > 0)
            self._track_episodes(reward, done, sl)
            memory[half] = reset_memory(memory[half], torch.as_tensor(~done))
            if self.atari:  # a game that ended was reset: its new game's first frame
                push_frames(self.prev_observations[sl], self._observe(obs), done)
            else:
                self.prev_observations[sl] = self._observe(obs)
            in_flight[half] = False

        for t in range(n_steps - 1):
            for half, sl in enumerate(self.slices):
                if in_flight[half]:  # the other half steps meanwhile
                    receive(half, t - 1)
                obs_buf[t, sl] = self.prev_observations[sl]
                memory[half], readout = self.agent.step(memory[half], obs_buf[t, sl])
                actions[t, sl] = self.agent.sample_actions(readout)
                if self.fire is not None:  # played and recorded; the policy loss leaves it out
                    actions[t, sl][self._fire_next[sl]] = self.fire
                    forced[t, sl] = self._fire_next[sl]
                self.envs[half].send(actions[t, sl])
                in_flight[half] = True
                if policy:
                    log_pi[t, sl], values[t, sl] = _chosen(readout, actions[t, sl])
        for half in range(len(self.slices)):
            receive(half, n_steps - 2)
        obs_buf[n_steps - 1] = self.prev_observations
        # the halves' memories joined again: every tensor [B, hidden]
        self.prev_memory_states = tuple(torch.cat(m) for m in zip(*memory, strict=True))
        arrays = [obs_buf, actions, rewards, is_not_done, life_lost, forced]
        if policy:  # V of the observation to bootstrap from; its memory moves on next call
            _, (_, last_value) = self.agent.step(self.prev_memory_states, obs_buf[n_steps - 1])
            values[n_steps - 1] = last_value.float().cpu().numpy()
            arrays += [log_pi, values]
        return Rollout(*(x.swapaxes(0, 1) for x in arrays))

    def _track_episodes(self, reward: np.ndarray, done: np.ndarray, games: slice) -> None:
        scores, lengths = self._scores[games], self._lengths[games]  # views
        scores += reward
        lengths += 1
        for b in np.flatnonzero(done):
            self.episode_scores.append(float(scores[b]))
            self.episode_lengths.append(int(lengths[b]))
        scores[done] = 0.0
        lengths[done] = 0

    def pop_episodes(self) -> tuple[list[float], list[int]]:
        """Scores and lengths of the games finished since the last call."""
        scores, lengths = self.episode_scores, self.episode_lengths
        self.episode_scores, self.episode_lengths = [], []
        return scores, lengths

    def close(self) -> None:
        for env in self.envs:
            env.close()
