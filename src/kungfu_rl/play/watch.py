"""Watching an agent play: full games written as MP4s and small looping GIFs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..agent.networks import RecurrentAgent
from ..envs.atari import AtariGame
from ..runtime.machine import torch_threads
from .evaluate import play_game


@dataclass
class WatchedGame:
    score: float
    steps: int
    """Agent steps (frameskip frames each)."""
    video: Path
    """The whole game, full colour, normal speed."""
    gif: Path
    """Its first seconds, small enough for a README."""


def watch(
    agent: RecurrentAgent,
    env: AtariGame,
    out_dir: Path,
    n_games: int = 1,
    *,
    seed: int | None = None,
    greedy: bool = False,
    gif_seconds: float = 20.0,
) -> list[WatchedGame]:
    """Play `n_games` full games into out_dir/game-XX.mp4 and game-XX.gif; their records."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    games = []
    for i in range(n_games):
        video, gif = out_dir / f"game-{i:02d}.mp4", out_dir / f"game-{i:02d}.gif"
        game_seed = None if seed is None else seed + i
        with torch_threads(1), torch.no_grad():  # one thread: as evaluate() plays
            score, steps = play_game(
                agent,
                env,
                seed=game_seed,
                video=video,
                gif=gif,
                gif_seconds=gif_seconds,
                greedy=greedy,
            )
        games.append(WatchedGame(score, steps, video, gif))
    return games
