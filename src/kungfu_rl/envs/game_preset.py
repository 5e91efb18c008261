"""Which preset a new run starts from for the game it names."""

from __future__ import annotations

from typing import Any

from ..config.choices import DEFAULT_GAME
from ..config.presets import GAME_PRESET, GAME_PRESET_WHY


def with_game_preset(given: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A new run's flags `given` with the preset its game starts from where they name none
    (`GAME_PRESET` for every game but Kung-Fu Master), and the line that says which and why;
    `given` itself and None where they name a preset or the game is Kung-Fu Master, however
    it is spelt ("kung_fu_master", "ALE/KungFuMaster-v5"). A name that is no game is left to
    the run's own check, which says so in one line."""
    if "preset" in given or "game" not in given:  # ale-py is not imported for a mistyped flag
        return given, None
    from .games import UnknownGameError, resolve_game

    try:
        game = resolve_game(given["game"])
    except UnknownGameError:
        return given, None
    if game == DEFAULT_GAME:
        return given, None
    said = (
        f"{game}: --preset {GAME_PRESET}, {GAME_PRESET_WHY}; "
        "--preset none trains the notebook's agent instead"
    )
    return {**given, "preset": GAME_PRESET}, said
