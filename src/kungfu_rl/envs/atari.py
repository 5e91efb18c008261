"""One Atari game with the agent's observation (`AtariGame`), and the notebook's `make_env`."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from .games import GameSettings, fire_action, resolve_game
from .preprocessing import OBS_SIZE, preprocess, push_frames


class AtariGame(gym.Wrapper):
    """One ALE game with the agent's observation: float32 (k, S, S) in [0, 1], the last k
    frames (`settings.frame_stack`; 1, the notebook's, by default) of side S
    (`settings.frame_size`; 42, the notebook's, by default).

    `rgb_frame()` gives the full-colour 210×160×3 screen for videos. With
    `settings.press_fire` the step after a game's start and after each lost life plays FIRE
    in place of the action it is given, as the training pool does.
    """

    def __init__(self, settings: GameSettings, render_mode: str | None = None):
        env = gym.make(
            f"ALE/{settings.game}-v5",
            obs_type="grayscale",
            frameskip=1 if settings.max_pool else settings.frameskip,
            repeat_action_probability=settings.repeat_action_probability,
            max_num_frames_per_episode=settings.max_frames,
            render_mode=render_mode,
        )
        super().__init__(env)
        self.settings = settings
        shape = (settings.frame_stack, settings.frame_size, settings.frame_size)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape, dtype=np.float32)
        self._stack = np.zeros((1, *shape), dtype=np.uint8)  # [1, k, S, S]
        self.fire = fire_action(self.action_meanings(), settings)
        self._fire_next = False
        self._lives = 0

    def observation(self, frame: np.ndarray, restart: bool = False) -> np.ndarray:
        """uint8 [210, 160] -> float32 [k, S, S] in [0, 1]: the newest frame last, after
        the k - 1 before it in this game (`restart`: the frame starts a game)."""
        s = self.settings
        pixels = preprocess(frame[None], s.crop, s.resize, s.frame_size)  # [1, 1, S, S]
        push_frames(self._stack, pixels, np.array([restart]))
        return self._stack[0].astype(np.float32) / np.float32(255.0)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        frame, info = self.env.reset(**kwargs)
        if self.settings.noop_max > 0:
            for _ in range(int(self.np_random.integers(1, self.settings.noop_max + 1))):
                frame, _, terminated, truncated, info = self._emulate(0)
                if terminated or truncated:
                    frame, info = self.env.reset()
        self._fire_next, self._lives = self.fire is not None, info.get("lives", 0)
        return self.observation(frame, restart=True), info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._fire_next:
            action = self.fire
        frame, reward, terminated, truncated, info = self._emulate(action)
        lives = info.get("lives", 0)
        self._fire_next = self.fire is not None and lives < self._lives
        self._lives = lives
        return self.observation(frame), float(reward), terminated, truncated, info

    def _emulate(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One agent step: `frameskip` emulator frames; the frame is the last one, or with
        `max_pool` the maximum of the last two (the env then steps one frame at a time)."""
        if not self.settings.max_pool:
            return self.env.step(action)
        total, last = 0.0, []
        for _ in range(self.settings.frameskip):
            frame, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            last = [*last[-1:], frame]
            if terminated or truncated:
                break
        return np.maximum.reduce(last), total, terminated, truncated, info

    def rgb_frame(self) -> np.ndarray:
        """The current full-colour screen, uint8 [210, 160, 3]."""
        return self.env.unwrapped.ale.getScreenRGB()

    def action_meanings(self) -> list[str]:
        return self.env.unwrapped.get_action_meanings()


def make_env(
    game: str = "KungFuMaster",
    *,
    repeat_action_probability: float = 0.25,
    frameskip: int = 4,
    noop_max: int = 0,
    max_frames: int = 108_000,
    resize: str = "area",
    frame_size: int = OBS_SIZE,
    frame_stack: int = 1,
    max_pool: bool = False,
    render_mode: str | None = None,
) -> AtariGame:
    """One Atari game with the notebook's observation, float32 (1, 42, 42) in [0, 1].

    The default is `ALE/KungFuMaster-v5` (frameskip 4, sticky actions 0.25, 14 actions),
    the modern form of the notebook's `KungFuMasterDeterministic-v0`. Raw game rewards.
    `resize`, `frame_size`, `frame_stack` and `max_pool` are `kungfu train --resize /
    --frame-size / --frame-stack / --max-pool`; with `frame_size=S, frame_stack=k` an
    observation is (k, S, S), the game's last k frames, oldest first. `max_pool` is off here,
    as in the notebook; `kungfu train` turns it on by default (`Config.max_pool`).
    """
    settings = GameSettings(
        game=resolve_game(game),
        repeat_action_probability=repeat_action_probability,
        frameskip=frameskip,
        noop_max=noop_max,
        max_frames=max_frames,
        resize=resize,
        frame_size=frame_size,
        frame_stack=frame_stack,
        max_pool=max_pool,
    )
    return AtariGame(settings, render_mode=render_mode)
