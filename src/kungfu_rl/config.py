"""Every training setting in one typed dataclass, validated in one place."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .agent import CORES, PRECISIONS
from .envs import GameSettings, resolve_game

LR_SCHEDULES = ("constant", "linear")


class ConfigError(ValueError):
    """A setting a user gave that cannot work; the message is one line for the command line."""


def _opt(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class Config:
    """Settings of one training run. Every field is a `kungfu train --flag`."""

    # what to play
    game: str = _opt("KungFuMaster", "Atari game, by name (see `kungfu games`)")
    sticky_actions: float = _opt(0.25, "probability that the previous action repeats (ALE v5)")
    frameskip: int = _opt(4, "emulator frames per agent step")
    noop_max: int = _opt(0, "up to this many no-op steps at each game start")
    max_episode_frames: int = _opt(
        108_000, "emulator frames after which a game is cut off (ALE v5: 30 minutes of play)"
    )

    # how much
    frames: int = _opt(10_000_000, "training budget in emulator frames (agent steps × frameskip)")
    n_games: int = _opt(32, "games played in parallel")
    rollout_len: int = _opt(20, "agent steps per game between updates")

    # the agent
    core: str = _opt("lstm", "memory core: lstm (the notebook's), or none (feedforward ablation)")
    hidden: int = _opt(128, "width of the dense layer and of the LSTM")
    channels: int = _opt(32, "channels of each of the three conv layers")

    # learning
    lr: float = _opt(3e-4, "Adam learning rate")
    lr_schedule: str = _opt(
        "constant", "constant, or linear: the rate falls linearly to 0 at --frames"
    )
    gamma: float = _opt(0.99, "discount factor, in (0, 1]")
    gae_lambda: float = _opt(0.95, "GAE lambda in [0, 1]; 1 is the notebook's n-step return")
    entropy_coef: float = _opt(0.01, "weight of the entropy bonus")
    value_coef: float = _opt(0.5, "weight of the value loss")
    reward_scale: float = _opt(0.01, "rewards are multiplied by this in the loss only")
    max_grad_norm: float = _opt(0.5, "gradient-norm clip")
    cut_at_life_loss: bool = _opt(
        False, "a lost life ends the value target (the game and the memory go on)"
    )

    # evaluation, logging, saving
    eval_every: int = _opt(500, "evaluate on full games every this many updates (0: never)")
    eval_games: int = _opt(5, "full games per evaluation")
    log_every: int = _opt(10, "write a metrics row every this many updates")
    checkpoint_every: int = _opt(500, "save a checkpoint every this many updates")
    checkpoint_minutes: float = _opt(10.0, "also save a checkpoint every this many minutes")
    keep_checkpoints: int = _opt(3, "newest checkpoints kept (plus best.pt, the best evaluation)")
    max_nonfinite: int = _opt(10, "stop after this many non-finite updates in a row")
    runs_dir: str = _opt("runs", "folder that holds run folders")
    run_name: str = _opt("", "run folder name (default: <game>-<YYYYmmdd-HHMMSS>)")

    # machine
    seed: int = _opt(0, "random seed (games, network, sampling)")
    device: str = _opt("auto", "auto, cpu or cuda")
    torch_threads: int = _opt(0, "torch intra-op threads for the update (0: one per core)")
    acting_threads: int = _opt(
        1, "torch threads while the games are played (0: as --torch-threads)"
    )
    precision: str = _opt(
        "auto",
        "the conv stack's arithmetic: fp32, bf16, or auto (bf16 where the CPU or GPU has it "
        "natively)",
    )
    env_threads: int = _opt(0, "emulator threads (0: one per core)")
    overlap: bool = _opt(
        True, "emulate half the games while the network picks the other half's actions"
    )
    progress: bool = _opt(True, "show a progress bar")
    dist_timeout_s: float = _opt(
        300.0, "under torchrun: seconds a rank waits for the others before giving up"
    )

    def validate(self) -> Config:
        """Check every setting; raise ConfigError with one line naming the first bad one."""
        try:
            self.game = resolve_game(self.game)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        positive = (
            "frames frameskip max_episode_frames n_games rollout_len hidden channels eval_games "
            "log_every checkpoint_every keep_checkpoints max_nonfinite"
        )
        for name in positive.split():
            if getattr(self, name) < 1:
                raise ConfigError(f"--{_flag(name)} must be >= 1, got {getattr(self, name)}")
        for name in (
            "noop_max",
            "eval_every",
            "torch_threads",
            "acting_threads",
            "env_threads",
            "seed",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{_flag(name)} must be >= 0, got {getattr(self, name)}")
        for name in ("lr", "reward_scale", "max_grad_norm", "checkpoint_minutes", "dist_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"--{_flag(name)} must be > 0, got {getattr(self, name)}")
        for name in ("entropy_coef", "value_coef"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"--{_flag(name)} must be >= 0, got {getattr(self, name)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(
                f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"--gamma must be in (0, 1], got {self.gamma}")
        if not 0 <= self.gae_lambda <= 1:
            raise ConfigError(f"--gae-lambda must be in [0, 1], got {self.gae_lambda}")
        if not 0 <= self.sticky_actions < 1:
            raise ConfigError(f"--sticky-actions must be in [0, 1), got {self.sticky_actions}")
        if self.core not in CORES:
            raise ConfigError(f"--core must be one of {', '.join(CORES)}, got {self.core!r}")
        if self.precision not in ("auto", *PRECISIONS):
            raise ConfigError(
                f"--precision must be auto, {' or '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"--device must be auto, cpu or cuda, got {self.device!r}")
        if "/" in self.run_name or self.run_name in (".", ".."):
            raise ConfigError(f"--run-name must be a plain folder name, got {self.run_name!r}")
        return self

    @property
    def game_settings(self) -> GameSettings:
        return GameSettings(
            game=self.game,
            repeat_action_probability=self.sticky_actions,
            frameskip=self.frameskip,
            noop_max=self.noop_max,
            max_frames=self.max_episode_frames,
        )

    def update_settings(self) -> dict[str, float]:
        """The keyword arguments of `train_on_rollout` that this config sets."""
        names = "gamma gae_lambda entropy_coef value_coef reward_scale max_grad_norm"
        return {name: getattr(self, name) for name in names.split()}

    def lr_at(self, frames: int) -> float:
        """The learning rate for the update that starts after `frames` frames."""
        if self.lr_schedule == "linear":
            return self.lr * max(0.0, 1.0 - frames / self.frames)
        return self.lr

    @property
    def frames_per_update(self) -> int:
        return self.n_games * self.rollout_len * self.frameskip

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: Path) -> Config:
        return cls.from_json(Path(path).read_text())


def _flag(name: str) -> str:
    return name.replace("_", "-")
