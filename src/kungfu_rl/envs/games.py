"""Atari games: `make_env`, game names, and the one observation preprocessing.

Every observation the agent ever sees, in the training pool and in evaluation, goes through
`preprocess`: crop the game's play area, resize the ALE grayscale frame to 42×42 (or 84×84:
`--frame-size`) with INTER_AREA or the brightest pixel of each cell (`--resize`), keep uint8.
The single-game env divides by 255 to give the notebook's float32 in [0, 1]; the pool keeps
uint8 and the agent divides at its first layer, which gives the same float32 values bit for
bit (and then, with `input_norm="frame"`, the default, standardises each frame inside the
network, whichever way the frame came).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ale_py
import cv2
import gymnasium as gym
import numpy as np
from ale_py import roms

from ..config import FRAME_SIZES, RESIZES

gym.register_envs(ale_py)
# the emulator's banner and info lines ("A.L.E: Arcade Learning Environment ...") on every
# command's stderr say nothing a user needs; warnings and errors still show
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)

OBS_SIZE = FRAME_SIZES[0]  # 42
"""Side of the square observation, as in the notebook (`--frame-size`'s default)."""

# The play area of each game (rows, columns) of the 210×160 frame, where a score bar or a
# frame takes rows the 42×42 observation needs; games not listed are not cropped. Kung-Fu
# Master's is the notebook's `img[60:-30, 15:]`. Pong's drops the score and the two walls
# (160×160 left: its 2×4-pixel ball keeps half a pixel of the 42×42); Breakout's drops the
# score and the walls around the bricks (164×144 left). Games whose top or bottom bar
# carries what a player needs (Seaquest's oxygen, Beam Rider's enemies left) stay whole.
GAME_CROPS: dict[str, tuple[slice, slice]] = {
    "KungFuMaster": (slice(60, -30), slice(15, None)),
    "Pong": (slice(34, 194), slice(None)),
    "Breakout": (slice(32, 196), slice(8, 152)),
}


MEASURED_GAMES = Path(__file__).parents[1] / "measured_games.json"
"""Games trained and scored at the defaults, written by `benchmarks/suite.py`."""


def measured_games() -> dict[str, dict[str, Any]]:
    """Per game name: frames, seed, games and mean of its longest measured run at the
    defaults (benchmarks/suite.py); empty if the table is missing or unreadable."""
    try:
        games = json.loads(MEASURED_GAMES.read_text())["games"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(games, dict):
        return {}
    keys = ("frames", "seed", "games", "mean")
    return {  # an entry without its figures is left out, not shown half
        name: m
        for name, m in games.items()
        if isinstance(m, dict) and all(isinstance(m.get(k), int | float) for k in keys)
    }


class UnknownGameError(ValueError):
    """A game name that ale-py does not carry; the message lists the closest valid names."""


def _camel(rom_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in rom_id.split("_"))


def _key(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def game_names() -> list[str]:
    """CamelCase names of every game whose ROM ships in the ale-py wheel, sorted."""
    return sorted(_camel(r) for r in roms.get_all_rom_ids())


def resolve_game(name: str) -> str:
    """The canonical CamelCase name for `name` ("kung_fu_master", "ALE/KungFuMaster-v5", ...).

    Raises UnknownGameError with the closest valid names when there is no such game.
    """
    stem = name.strip()
    if stem.startswith("ALE/"):
        stem = stem[4:]
    stem = stem.split("-v")[0]
    stem = stem.removesuffix("NoFrameskip").removesuffix("Deterministic")
    by_key = {_key(g): g for g in game_names()}
    if _key(stem) in by_key:
        return by_key[_key(stem)]
    close = difflib.get_close_matches(stem, game_names(), n=4, cutoff=0.4)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UnknownGameError(f"unknown game {name!r}{hint} (see `kungfu games` for all names)")


def rom_id(game: str) -> str:
    """ale-py's snake_case ROM id for a CamelCase game name: KungFuMaster -> kung_fu_master."""
    key = _key(resolve_game(game))
    return next(r for r in roms.get_all_rom_ids() if _key(r) == key)


@dataclass(frozen=True)
class GameSettings:
    """How a game is played; the pool and the single-game env use the same settings."""

    game: str = "KungFuMaster"
    """CamelCase game name (see `game_names()`)."""
    repeat_action_probability: float = 0.25
    """Sticky actions, as in ALE v5."""
    frameskip: int = 4
    """Emulator frames per agent step; the observation is the last frame."""
    noop_max: int = 0
    """Up to this many no-op steps at each game start (0: none, as in ALE v5)."""
    max_frames: int = 108_000
    """Emulator frames after which a game is truncated (30 minutes of play, as in ALE v5)."""
    resize: str = "area"
    """How the cropped frame shrinks to frame_size × frame_size (`config.RESIZES`)."""
    frame_size: int = OBS_SIZE
    """Side of the square frame (`config.FRAME_SIZES`)."""
    frame_stack: int = 1
    """Frames in one observation, oldest first, as channels (`push_frames`)."""
    max_pool: bool = False
    """Each step's frame is the pixel-wise maximum of its last two emulator frames, so that
    what the game draws every other frame (Space Invaders' shots) is seen at every step."""

    @property
    def crop(self) -> tuple[slice, slice]:
        return GAME_CROPS.get(self.game, (slice(None), slice(None)))


def preprocess(
    frames: np.ndarray, crop: tuple[slice, slice], resize: str = "area", size: int = OBS_SIZE
) -> np.ndarray:
    """Crop and resize ALE grayscale frames: each of the size×size cells the mean of the
    pixels it covers (`resize="area"`, cv2's INTER_AREA) or the brightest of them (`"max"`).

    frames: uint8 [..., 210, 160] -> uint8 [..., 1, size, size] (42 by default).
    """
    lead = frames.shape[:-2]
    flat = frames.reshape(-1, *frames.shape[-2:])[:, crop[0], crop[1]]  # [N, h, w]
    if resize == "max":
        return _max_resize(flat, size).reshape(*lead, 1, size, size)
    if resize != "area":
        raise ValueError(f"resize must be one of {RESIZES}, got {resize!r}")
    out = np.empty((flat.shape[0], 1, size, size), dtype=np.uint8)
    for i, frame in enumerate(flat):
        out[i, 0] = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
    return out.reshape(*lead, 1, size, size)


def _max_resize(flat: np.ndarray, size: int = OBS_SIZE) -> np.ndarray:
    """uint8 [N, h, w] (h, w >= size) -> [N, size, size]: cell (i, j) is the maximum over
    rows [i·h/size, (i+1)·h/size) and columns [j·w/size, (j+1)·w/size), floored; every
    pixel falls in exactly one cell."""
    h, w = flat.shape[1:]
    if h < size or w < size:
        raise ValueError(f"a {h}×{w} crop is smaller than the {size}×{size} observation")
    rows = np.arange(size) * h // size  # first row of each cell
    cols = np.arange(size) * w // size
    return np.maximum.reduceat(np.maximum.reduceat(flat, rows, axis=1), cols, axis=2)


def push_frames(stack: np.ndarray, frames: np.ndarray, restart: np.ndarray) -> None:
    """Add the newest frame to each game's stack in place, dropping its oldest.

    stack uint8 [N, k, H, W], oldest frame first; frames [N, 1, H, W]; restart bool [N]:
    games whose `frames` start a new game, whose whole stack becomes that frame (no frame of
    the game before is seen).
    """
    stack[:, :-1] = stack[:, 1:]
    stack[:, -1] = frames[:, 0]
    stack[restart] = frames[restart]  # [n, 1, H, W] broadcast over the k frames


class AtariGame(gym.Wrapper):
    """One ALE game with the agent's observation: float32 (k, S, S) in [0, 1], the last k
    frames (`settings.frame_stack`; 1, the notebook's, by default) of side S
    (`settings.frame_size`; 42, the notebook's, by default).

    `rgb_frame()` gives the full-colour 210×160×3 screen for videos.
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
        return self.observation(frame, restart=True), info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        frame, reward, terminated, truncated, info = self._emulate(action)
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
