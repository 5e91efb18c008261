"""Tiny gymnasium envs for tests: no ROMs, fast, with known answers."""

from __future__ import annotations

import types

import gymnasium as gym
import numpy as np

SHAPE = (1, 42, 42)


class CueMemoryEnv(gym.Env):
    """A cue shown only at the first step decides which action pays at the last.

    Step 0 shows a bright top half (cue 0) or a bright bottom half (cue 1); the next
    `length - 1` observations are blank grey. The action at the last step earns +1 if it
    names the cue, -1 otherwise; every other step earns 0. Without memory the best
    expected reward is 0; with memory it is +1.
    """

    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int = 4, size: int = 16):
        self.length = length
        self.shape = (1, size, size)
        self.observation_space = gym.spaces.Box(0.0, 1.0, self.shape, dtype=np.float32)
        self.t = 0
        self.cue = 0

    def _obs(self) -> np.ndarray:
        obs = np.full(self.shape, 0.5, dtype=np.float32)
        if self.t == 0:
            obs[:] = 0.0
            middle = self.shape[1] // 2
            half = slice(0, middle) if self.cue == 0 else slice(middle, None)
            obs[0, half] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.cue = int(self.np_random.integers(2))
        return self._obs(), {}

    def step(self, action):
        last = self.t == self.length - 1
        reward = (1.0 if int(action) == self.cue else -1.0) if last else 0.0
        self.t += 1
        return self._obs(), reward, last, False, {}


class CountdownEnv(gym.Env):
    """Episodes of random length (2..6 steps); the observation shows the step number.

    Reward 1 at every step, so an episode's score is its length.
    """

    observation_space = gym.spaces.Box(0.0, 1.0, SHAPE, dtype=np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.length = int(self.np_random.integers(2, 7))
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return np.full(SHAPE, self.t / 10.0, dtype=np.float32)

    def step(self, action):
        self.t += 1
        return self._obs(), 1.0, self.t >= self.length, False, {}


class LivesEnv(gym.Env):
    """Three lives; one is lost every 3 steps, and the game ends with the last one.

    `info["lives"]` counts them as ALE does; the observation shows the step number.
    """

    observation_space = gym.spaces.Box(0.0, 1.0, SHAPE, dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {"lives": 3}

    def _obs(self) -> np.ndarray:
        return np.full(SHAPE, self.t / 10.0, dtype=np.float32)

    def step(self, action):
        self.t += 1
        lives = 3 - self.t // 3
        return self._obs(), 1.0, lives == 0, False, {"lives": lives}


class CountdownGame(CountdownEnv):
    """CountdownEnv with what the trainer asks of a game beyond gymnasium's (`settings`,
    `rgb_frame`), to train on in place of an Atari game. Its games' lengths come from the
    seed a reset is given, or from fresh entropy when it is given none."""

    settings = types.SimpleNamespace(frameskip=4)

    def rgb_frame(self) -> np.ndarray:
        return np.zeros((210, 160, 3), dtype=np.uint8)
