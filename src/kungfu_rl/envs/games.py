"""Which Atari games there are and how each is played: names, the measured ones, crops."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ale_py
import gymnasium as gym
from ale_py import roms

from .preprocessing import OBS_SIZE

gym.register_envs(ale_py)
# the emulator's banner and info lines ("A.L.E: Arcade Learning Environment ...") on every
# command's stderr say nothing a user needs; warnings and errors still show
ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)

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

# `--crop scoreless`: every game of the suite without its score bar and the blank rows and
# columns around the play, as read from 3,000 steps of random play of each. Space Invaders
# loses its score (rows 10:20; the mystery ship flies below) and the bare ground (rows
# 195:); Beam Rider its score and sector (rows 0:30), keeping the enemies left and the lives;
# Seaquest its score and submarines left (rows 0:42), the left border and the Activision
# logo, keeping the oxygen bar and the divers rescued. Q*bert's score and lives are drawn on
# alternate frames in the rows where Q*bert jumps and enemies fall onto the pyramid (rows
# 6:28), so its rows stay whole and only the blank columns at each side go.
SCORELESS_CROPS: dict[str, tuple[slice, slice]] = {
    **GAME_CROPS,
    "Qbert": (slice(None), slice(8, 152)),
    "SpaceInvaders": (slice(20, 195), slice(None)),
    "BeamRider": (slice(30, 191), slice(8, None)),
    "Seaquest": (slice(42, 187), slice(8, None)),
}
CROPS_BY_AREA: dict[str, dict[str, tuple[slice, slice]]] = {
    "play": GAME_CROPS,
    "scoreless": SCORELESS_CROPS,
    "none": {},
}
"""`GameSettings.area` (`config.CROPS`) to its crop table; a game not listed keeps the whole
screen."""


MEASURED_GAMES = Path(__file__).parents[1] / "measured_games.json"
"""Games trained and scored at the defaults, written by `make measured-games`
(benchmarks/render/measured_games.py) from the suite's result JSONs."""


def measured_games() -> dict[str, dict[str, Any]]:
    """Per game name: frames, seed, games and mean of its longest measured run at the
    defaults (`MEASURED_GAMES`); empty if the table is missing or unreadable."""
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
    area: str = "play"
    """Which part of the screen the frame keeps (`config.CROPS`): "play", the game's play
    area (`GAME_CROPS`); "scoreless", the screen without the score bar of every game of the
    suite (`SCORELESS_CROPS`); "none", the whole 210×160 screen."""
    press_fire: bool = False
    """The step after a game's start and after each lost life is FIRE, whatever the policy
    picked, in games that have FIRE (`fire_action`)."""

    @property
    def crop(self) -> tuple[slice, slice]:
        """Rows and columns of the 210×160 screen that the frame keeps."""
        return CROPS_BY_AREA[self.area].get(self.game, (slice(None), slice(None)))


def fire_action(action_meanings: list[str], settings: GameSettings) -> int | None:
    """The index of FIRE among a game's actions when `settings.press_fire` asks for it and
    the game has it; else None."""
    if settings.press_fire and "FIRE" in action_meanings:
        return action_meanings.index("FIRE")
    return None
