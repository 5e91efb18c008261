"""Evaluation during training: full games every --eval-every updates and at the end, shared
out over the ranks; the best evaluation's weights kept as best.pt, the final one's games
recorded with the best and the worst one's video.

Each evaluation is seeded from the run's seed and the update: its games and its action
sampling are the same whenever a run with that seed evaluates after that update, and
training's random streams are put back as they were after it, so that a run trains the same
with or without evaluations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..agent.networks import RecurrentAgent
from ..config import Config
from ..envs.atari import AtariGame
from ..play.evaluate import evaluate, save_eval_record, summarize
from ..runs.metrics import MetricsLogger
from ..runtime.machine import fork_rng
from .distributed import DistInfo, gather_lists
from .progress import Progress, fmt_frames
from .stopping import StopOnSignals


def evaluation_seeds(seed: int, update: int, rank: int = 0) -> tuple[int, int]:
    """(the first game's seed, the action sampling's seed) of the evaluation after `update`
    of a run seeded `seed`, on rank `rank`. Game j of the evaluation is seeded with the first
    seed + j, on whichever rank plays it; each rank samples its actions from its own seed.
    numpy's SeedSequence mixes the numbers, so that no evaluation seed is a training one
    (the run's seed plus a count)."""
    games = np.random.SeedSequence([seed, update, 0]).generate_state(1)[0]
    sampling = np.random.SeedSequence([seed, update, 1, rank]).generate_state(1)[0]
    return int(games) % 2**30, int(sampling)


def share(n_games: int, rank: int, world_size: int) -> range:
    """The games rank `rank` plays of an evaluation of `n_games`: one run of consecutive
    games, the ranks' runs in rank order, sizes differing by at most one."""
    start = rank * (n_games // world_size) + min(rank, n_games % world_size)
    return range(start, start + len(range(rank, n_games, world_size)))


class EvaluationDuringTraining:
    """When the Trainer evaluates (`_evaluation_due`) and how (`_evaluate`); best.pt is
    written with `SavedState.checkpoint`."""

    agent: RecurrentAgent
    device: torch.device
    config: Config
    dist: DistInfo
    run_dir: Path
    eval_env: AtariGame
    update: int
    frames: int
    evaluations: list[dict[str, Any]]
    best_eval: float
    logger: MetricsLogger  # on ranks other than 0, one that writes nothing
    progress: Progress

    def _evaluation_due(self, last: bool) -> bool:
        """Every --eval-every updates (0: never) and after the last one."""
        every = self.config.eval_every
        return bool(every) and (self.update % every == 0 or last)

    def _evaluate(self, stop: StopOnSignals, final: bool = False) -> None:
        """Full games, shared out over the ranks; rank 0 logs them and keeps best.pt.

        The final evaluation of a single-process run also records the games and keeps the
        best and the worst one's video for the report (videos/final-<update>/). Seeded by
        `evaluation_seeds`; the random streams of training are untouched by it.
        """
        games = share(self.config.eval_games, self.dist.rank, self.dist.world_size)
        first_seed, sampling_seed = evaluation_seeds(self.config.seed, self.update, self.dist.rank)
        video_dir = None
        if final and not self.dist.enabled:
            video_dir = self.run_dir / "videos" / f"final-{self.update:09d}"
        self.progress.say(
            f"evaluating on {self.config.eval_games} full games at {fmt_frames(self.frames)} "
            "frames ..."
        )
        self.agent.eval()
        # Alone, a signal drops the evaluation at once; in a distributed run every rank
        # must reach the next all-reduce, so the evaluation finishes first.
        stop.urgent = not self.dist.enabled
        try:
            with fork_rng(sampling_seed, self.device):
                scores = evaluate(
                    self.agent,
                    self.eval_env,
                    len(games),
                    seed=first_seed + games.start,
                    video_dir=video_dir,
                )
        finally:
            stop.urgent = False
            self.agent.train()
        scores = gather_lists(self.dist, scores)
        stats = summarize(scores)
        self.evaluations.append({"update": self.update, "frames": self.frames, **stats})
        for k, v in stats.items():
            self.logger.record(f"eval/score_{k}", v)
        self.progress.say(
            f"evaluation at {fmt_frames(self.frames)} frames: mean {stats['mean']:,.0f} "
            f"(median {stats['median']:,.0f}, {stats['min']:,.0f}–{stats['max']:,.0f})"
        )
        self.progress.update(self.frames, eval=f"{stats['mean']:,.0f}")
        if final and self.dist.is_main:
            save_eval_record(
                self.run_dir,
                f"final-{self.update:09d}",
                scores,
                video_dir,
                keep_videos="best-worst",
                update=self.update,
                frames=self.frames,
                game=self.config.game,
                sticky_actions=self.config.sticky_actions,
            )
        if stats["mean"] > self.best_eval:
            self.best_eval = stats["mean"]
            self.checkpoint(name="best.pt")
