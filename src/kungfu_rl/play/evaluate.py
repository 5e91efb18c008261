"""Full games with raw scores, their statistics, and MP4 videos of the full-colour screen."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imageio.v2 as imageio
import numpy as np
import torch

from ..agent.networks import RecurrentAgent
from ..envs.atari import AtariGame
from ..runtime.machine import torch_threads
from .gif import write_gif

VIDEO_SCALE = 2
"""Videos show the 210×160 screen at twice its size."""


class VideoWriter:
    """Streams RGB frames [210, 160, 3] to an H.264 MP4 at the game's normal speed."""

    def __init__(self, path: Path, fps: float):
        self._writer = imageio.get_writer(
            str(path), fps=fps, codec="libx264", quality=7, macro_block_size=1
        )

    def add(self, frame: np.ndarray) -> None:
        big = frame.repeat(VIDEO_SCALE, axis=0).repeat(VIDEO_SCALE, axis=1)
        self._writer.append_data(big)

    def close(self) -> None:
        self._writer.close()


class GifWriter:
    """Collects the first `seconds` of RGB frames [210, 160, 3] for a small looping GIF,
    every frame shown for the same time (`gif.frame_delay_ms`)."""

    def __init__(self, path: Path, fps: float, seconds: float):
        self.path, self.fps = Path(path), fps
        self.max_frames = max(1, int(seconds * fps))
        self.frames: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        if len(self.frames) < self.max_frames:
            self.frames.append(frame.copy())

    def close(self) -> None:
        write_gif(self.path, self.frames, self.fps)  # every frame as long as the others


def choose_actions(
    agent: RecurrentAgent, readout: tuple[torch.Tensor, torch.Tensor], greedy: bool
) -> np.ndarray:
    """Actions from the policy's logits [B, A]: sampled, or the most probable (`greedy`)."""
    if greedy:
        return readout[0].argmax(dim=-1).cpu().numpy().astype(np.int64)
    return agent.sample_actions(readout)


def play_game(
    agent: RecurrentAgent,
    env: AtariGame,
    *,
    seed: int | None = None,
    video: Path | None = None,
    gif: Path | None = None,
    gif_seconds: float = 20.0,
    greedy: bool = False,
) -> tuple[float, int]:
    """Play one full game (all lives) with actions sampled from the policy (or its most
    probable action, `greedy`).

    Returns the raw game score and the number of agent steps; with `video`, writes an MP4 of
    every agent step's screen at 60 / frameskip frames per second, i.e. normal speed; with
    `gif`, the game's first `gif_seconds` as a looping GIF at the same speed.
    """
    observation, _ = env.reset(seed=seed)
    memory = agent.get_initial_state(1)
    fps = 60 / env.settings.frameskip
    writers: list[VideoWriter | GifWriter] = []
    if video is not None:
        writers.append(VideoWriter(video, fps=fps))
    if gif is not None:
        writers.append(GifWriter(gif, fps=fps, seconds=gif_seconds))
    for w in writers:
        w.add(env.rgb_frame())
    score, steps = 0.0, 0
    try:
        while True:
            memory, readout = agent.step(memory, observation[None])
            action = int(choose_actions(agent, readout, greedy)[0])
            observation, reward, terminated, truncated, _ = env.step(action)
            score += reward
            steps += 1
            for w in writers:
                w.add(env.rgb_frame())
            if terminated or truncated:
                return score, steps
    finally:
        for w in writers:
            w.close()


def evaluate(
    agent: RecurrentAgent,
    env: AtariGame,
    n_games: int = 1,
    *,
    seed: int | None = None,
    video_dir: Path | None = None,
    greedy: bool = False,
    on_game: Callable[[int, float, int], None] | None = None,
) -> list[float]:
    """Plays `n_games` entire games start to end and returns their raw scores (the notebook's).

    With `video_dir`, each game is recorded as `game-XX.mp4` there; `greedy` plays the most
    probable action instead of sampling; `on_game(i, score, steps)` hears of each game's end.
    """
    scores = []
    for i in range(n_games):
        video = None
        if video_dir is not None:
            Path(video_dir).mkdir(parents=True, exist_ok=True)
            video = Path(video_dir) / f"game-{i:02d}.mp4"
        game_seed = None if seed is None else seed + i
        # batch-1 forward passes are fastest on one thread, and a second thread that spins
        # while the other core is busy can make them ten times slower
        with torch_threads(1):
            score, steps = play_game(agent, env, seed=game_seed, video=video, greedy=greedy)
        scores.append(score)
        if on_game is not None:
            on_game(i, score, steps)
    return scores


def summarize(scores: list[float]) -> dict[str, float]:
    """mean, median, min, max of game scores."""
    return {
        "mean": float(np.mean(scores)),
        "median": float(statistics.median(scores)),
        "min": float(min(scores)),
        "max": float(max(scores)),
    }


def save_eval_record(
    run_dir: Path,
    name: str,
    scores: list[float],
    video_dir: Path | None = None,
    keep_videos: str = "all",
    **fields: Any,
) -> Path:
    """Write run_dir/eval-<name>.json: every game's score, their statistics, the versions.

    `video_dir` holds game-XX.mp4 for game XX; with keep_videos="best-worst" the other
    games' videos are deleted. Paths in the record are relative to the run folder.
    """
    from ..runtime.versions import versions

    videos: dict[str, str] = {}
    if video_dir is not None:
        ranked = sorted(range(len(scores)), key=lambda i: scores[i])
        keep = {ranked[0], ranked[-1]} if keep_videos == "best-worst" else set(ranked)
        for i in range(len(scores)):
            path = Path(video_dir) / f"game-{i:02d}.mp4"
            if i in keep:
                videos[str(i)] = str(path.relative_to(run_dir))
            else:
                path.unlink(missing_ok=True)
    record = {
        **fields,
        "games": len(scores),
        "scores": scores,
        **summarize(scores),
        "videos": videos,
        "versions": versions(),
    }
    out = Path(run_dir) / f"eval-{name}.json"
    out.write_text(json.dumps(record, indent=2))
    return out
