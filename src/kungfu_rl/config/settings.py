"""Every training setting in one typed table: default, help, bounds or choices, resumable or not.

Validation, the command line's flags and the set of settings a resume may change are all
derived from this one table (`Config`); `update.UpdateSettings` is the part one update needs.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .choices import (
    CORES,
    CROPS,
    DEFAULT_GAME,
    DEVICES,
    FRAME_SIZES,
    INITS,
    INPUT_NORMS,
    LR_SCHEDULES,
    MAX_SEED,
    NETWORKS,
    PRECISIONS,
    RESIZES,
    REWARD_MODES,
)
from .presets import PRESETS, SETTINGS_ADDED
from .validation import ConfigError, check_together, checked, setting, shown, spec_of

if TYPE_CHECKING:
    from .update import UpdateSettings

PRESET, GAME, BUDGET, AGENT, LEARNING, SAVING, MACHINE = (
    "preset",
    "what to play",
    "how much",
    "the agent",
    "learning",
    "evaluation, logging and checkpoints",
    "machine",
)


@dataclass
class Config:
    """Settings of one training run. Every field is a `kungfu train --flag`."""

    preset: str = setting(
        "none",
        "a named set of settings, each of which a flag given beside it overrides (see PRESETS)",
        PRESET,
        choices=("none", *PRESETS),
    )

    # what to play
    game: str = setting(DEFAULT_GAME, "Atari game, by name (see `kungfu games`)", GAME)
    sticky_actions: float = setting(
        0.25, "probability that the previous action repeats (ALE v5)", GAME, low=0.0, high=0.99
    )
    frameskip: int = setting(4, "emulator frames per agent step", GAME, low=1, high=64)
    noop_max: int = setting(
        0, "up to this many no-op steps at each game start", GAME, low=0, high=10_000
    )
    max_episode_frames: int = setting(
        108_000,
        "emulator frames after which a game is cut off (ALE v5: 30 minutes of play)",
        GAME,
        low=1,
        high=10**9,
    )

    crop: str = setting(
        "play",
        "what the frame keeps of the screen: play (the game's play area, without its score "
        "bar, where one is listed: Kung-Fu Master, Pong, Breakout), scoreless (the screen "
        "less its score bar, in every game of the suite) or none (the whole screen, as the "
        "published agents saw it)",
        GAME,
        choices=CROPS,
    )
    press_fire: bool = setting(
        False,
        "press FIRE at each game's start and after each lost life, in games that have it "
        "(Breakout's ball waits for it); that step's action is recorded as FIRE",
        GAME,
    )
    resize: str = setting(
        "area",
        "how a frame shrinks to --frame-size: area (each cell the mean of its pixels, the "
        "notebook's) or max (the brightest: a small ball stays bright)",
        GAME,
        choices=RESIZES,
    )
    frame_size: int = setting(
        FRAME_SIZES[0],
        "side of the square frame: 42 (the notebook's) or 84 (small objects keep their "
        "pixels; the notebook network folds each 2×2 block into channels, to see 42×42)",
        GAME,
        low=min(FRAME_SIZES),
        high=max(FRAME_SIZES),
    )
    max_pool: bool = setting(
        True,
        "each step's frame is the brighter of its last two emulator frames, so what a game "
        "draws every other frame (Space Invaders' shots) is seen",
        GAME,
    )
    frame_stack: int = setting(
        1,
        "frames the agent sees at each step, as channels: the newest and those before it "
        "(1: the notebook's one frame; the memory remembers the rest)",
        GAME,
        low=1,
        high=16,
    )

    # how much
    frames: int = setting(
        10_000_000,
        "training budget in emulator frames (agent steps × frameskip)",
        BUDGET,
        low=1,
        high=10**15,
        resumable=True,
    )
    n_games: int = setting(32, "games played in parallel", BUDGET, low=1, high=4096)
    rollout_len: int = setting(
        20, "agent steps per game between updates", BUDGET, low=1, high=10_000
    )

    # the agent
    network: str = setting(
        "notebook",
        "conv stack: notebook (3 × conv 32 3×3/2, for 42×42 frames) or nature (the DQN/A2C/PPO "
        "papers': conv 32 8×8/4, 64 4×4/2, 64 3×3/1, for 84×84 frames)",
        AGENT,
        choices=NETWORKS,
    )
    core: str = setting(
        "lstm",
        "memory core: lstm (the notebook's), gru, or none (feedforward, for the memory ablation)",
        AGENT,
        choices=CORES,
    )
    hidden: int = setting(
        128, "width of the dense layer and of the memory", AGENT, low=1, high=4096
    )
    channels: int = setting(
        32,
        "channels of each of the notebook network's three conv layers (the nature network's "
        "are 32, 64, 64)",
        AGENT,
        low=1,
        high=1024,
    )
    init: str = setting(
        "torch",
        "starting weights: torch (PyTorch's defaults, the notebook's) or orthogonal "
        "(small policy head)",
        AGENT,
        choices=INITS,
    )
    input_norm: str = setting(
        "frame",
        "pixels into the network: none (÷ 255, the notebook's) or frame (each frame "
        "standardised to mean 0, deviation 1)",
        AGENT,
        choices=INPUT_NORMS,
    )

    # learning
    lr: float = setting(3e-4, "Adam learning rate", LEARNING, low=0.0, low_open=True, high=1.0)
    lr_schedule: str = setting(
        "constant",
        "constant, or linear: the rate falls linearly to 0 at --frames (or --lr-decay-frames)",
        LEARNING,
        choices=LR_SCHEDULES,
    )
    lr_decay_frames: int = setting(
        0,
        "with --lr-schedule linear, the frames at which the rate reaches 0 (0: --frames); "
        "a run may stop before it",
        LEARNING,
        low=0,
        high=10**15,
    )
    adam_eps: float = setting(1e-8, "Adam's epsilon", LEARNING, low=0.0, low_open=True, high=1.0)
    gamma: float = setting(0.99, "discount factor", LEARNING, low=0.0, low_open=True, high=1.0)
    gae_lambda: float = setting(
        0.95, "GAE lambda; 1 is the notebook's n-step return", LEARNING, low=0.0, high=1.0
    )
    entropy_coef: float = setting(0.01, "weight of the entropy bonus", LEARNING, low=0.0, high=1e3)
    value_coef: float = setting(0.5, "weight of the value loss", LEARNING, low=0.0, high=1e3)
    reward_mode: str = setting(
        "normalize",
        "how rewards enter the loss: scale (times --reward-scale), clip (to [-1, 1]) or "
        "normalize (by a running deviation of the discounted return)",
        LEARNING,
        choices=REWARD_MODES,
    )
    reward_scale: float = setting(
        0.01,
        "with --reward-mode scale, rewards are multiplied by this in the loss only",
        LEARNING,
        low=0.0,
        low_open=True,
        high=1e3,
    )
    max_grad_norm: float = setting(
        0.5, "gradient-norm clip", LEARNING, low=0.0, low_open=True, high=1e6
    )
    cut_at_life_loss: bool = setting(
        False, "a lost life ends the value target (the game and the memory go on)", LEARNING
    )
    epochs: int = setting(
        1,
        "passes over each rollout; above 1 (or with --minibatches above 1) the policy loss is "
        "PPO's clipped ratio and advantages are standardised per minibatch",
        LEARNING,
        low=1,
        high=64,
    )
    minibatches: int = setting(
        4,
        "gradient steps per pass, each on a share of the games (shares differ by at most one "
        "game; with fewer games, one game each), or of single steps with --minibatch-steps",
        LEARNING,
        low=1,
        high=4096,
    )
    minibatch_steps: bool = setting(
        False, "with --core none, minibatches of single steps of any game (the papers')", LEARNING
    )
    clip_range: float = setting(
        0.1,
        "PPO's clip of the probability ratio (used when --epochs or --minibatches is above 1)",
        LEARNING,
        low=0.0,
        low_open=True,
        high=10.0,
    )
    clip_value: bool = setting(
        False,
        "with PPO's update, the value loss is the larger of the plain one and that of a value "
        "kept within --clip-range of the acting network's",
        LEARNING,
    )

    # evaluation, logging, saving
    eval_every: int = setting(
        500,
        "evaluate on full games every this many updates (0: never)",
        SAVING,
        low=0,
        resumable=True,
    )
    eval_games: int = setting(
        5, "full games per evaluation", SAVING, low=1, high=10_000, resumable=True
    )
    log_every: int = setting(
        10, "write a metrics row every this many updates", SAVING, low=1, resumable=True
    )
    checkpoint_every: int = setting(
        500, "save a checkpoint every this many updates", SAVING, low=1, resumable=True
    )
    checkpoint_minutes: float = setting(
        10.0,
        "also save a checkpoint every this many minutes",
        SAVING,
        low=0.0,
        low_open=True,
        high=1e6,
        resumable=True,
    )
    keep_checkpoints: int = setting(
        3,
        "newest checkpoints kept (plus best.pt, the best evaluation)",
        SAVING,
        low=1,
        resumable=True,
    )
    max_nonfinite: int = setting(
        10, "stop after this many non-finite updates in a row", SAVING, low=1, resumable=True
    )
    runs_dir: str = setting("runs", "folder that holds run folders", SAVING)
    run_name: str = setting("", "run folder name (default: <game>-<YYYYmmdd-HHMMSS>)", SAVING)

    # machine
    seed: int = setting(0, "random seed (games, network, sampling)", MACHINE, low=0, high=MAX_SEED)
    device: str = setting(
        "auto", "auto: cuda where torch sees one", MACHINE, choices=DEVICES, resumable=True
    )
    torch_threads: int = setting(
        0,
        "torch intra-op threads for the update (0: one per core)",
        MACHINE,
        low=0,
        high=1024,
        resumable=True,
    )
    acting_threads: int = setting(
        1,
        "torch threads while the games are played (0: as --torch-threads)",
        MACHINE,
        low=0,
        high=1024,
        resumable=True,
    )
    precision: str = setting(
        "auto",
        "the conv stack's arithmetic; auto: bf16 where the CPU or GPU has it natively",
        MACHINE,
        choices=("auto", *PRECISIONS),
        resumable=True,
    )
    env_threads: int = setting(
        0, "emulator threads (0: one per core)", MACHINE, low=0, high=1024, resumable=True
    )
    overlap: bool = setting(
        True,
        "emulate half the games while the network picks the other half's actions",
        MACHINE,
        resumable=True,
    )
    dist_timeout_s: float = setting(
        300.0,
        "under torchrun: seconds a rank waits for the others before giving up",
        MACHINE,
        low=0.0,
        low_open=True,
        high=1e6,
        resumable=True,
    )

    def validate(self) -> Config:
        """Check every setting against the table; ConfigError names the first bad one.

        The game's name is checked for its type here; whether ale-py carries such a game is
        `envs.games.resolve_game`'s to say (it needs ale-py, which this module does not import).
        """
        for f in dataclasses.fields(self):
            setattr(self, f.name, checked(f, getattr(self, f.name)))
        check_together(self)
        return self

    @property
    def update_settings(self) -> UpdateSettings:
        """What `train_on_rollout` needs of this config."""
        from .update import UpdateSettings

        return UpdateSettings(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(UpdateSettings)}
        )

    def lr_at(self, frames: int) -> float:
        """The learning rate for the update that starts after `frames` frames."""
        if self.lr_schedule == "linear":
            horizon = self.lr_decay_frames or self.frames
            return self.lr * max(0.0, 1.0 - frames / horizon)
        return self.lr

    @property
    def frames_per_update(self) -> int:
        return self.n_games * self.rollout_len * self.frameskip

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_preset(cls, preset: str = "none", **given: Any) -> Config:
        """The defaults, then the preset's values, then `given` (a command line's flags)."""
        if preset != "none" and preset not in PRESETS:
            raise ConfigError(
                f"--preset must be one of none, {', '.join(PRESETS)}, got {shown(preset)}"
            )
        return cls(**{**PRESETS.get(preset, {}), **given, "preset": preset})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """A config from a dict such as config.json holds; unknown keys are ignored, and a
        key of `SETTINGS_ADDED` that is missing takes the value of the runs without it."""
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**SETTINGS_ADDED, **{k: v for k, v in data.items() if k in known}})

    @classmethod
    def from_json(cls, text: str) -> Config:
        try:
            data = json.loads(text)
        except (ValueError, TypeError, RecursionError) as e:  # ValueError: JSONDecodeError,
            # or an integer of thousands of digits; RecursionError: lists nested too deep
            raise ConfigError(f"a config that is not JSON ({str(e)[:100]})") from None
        return cls.from_dict(data)


RESUMABLE = frozenset(f.name for f in dataclasses.fields(Config) if spec_of(f).resumable)
"""Settings a resumed run may change; the others define the run and stay as they were."""
