"""Named sets of settings over the defaults, and the values of settings added to the table
after the first runs, for config.json files that lack them."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "long": {
        "frames": 40_000_000,
        "lr": 5e-4,
        "lr_schedule": "linear",
        "max_pool": False,
        "minibatches": 1,
        "entropy_coef": 0.0025,
    },
    "cleanrl-setup": {
        "network": "nature",
        "core": "none",
        "hidden": 512,
        "init": "orthogonal",
        "input_norm": "none",
        "frame_size": 84,
        "frame_stack": 4,
        "crop": "none",
        "resize": "area",
        "max_pool": True,
        "sticky_actions": 0.0,
        "noop_max": 30,
        "press_fire": True,
        "cut_at_life_loss": True,
        "reward_mode": "clip",
        "n_games": 8,
        "rollout_len": 128,
        "epochs": 4,
        "minibatches": 4,
        "minibatch_steps": True,
        "clip_range": 0.1,
        "clip_value": True,
        "entropy_coef": 0.01,
        "value_coef": 0.25,
        "max_grad_norm": 0.5,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "lr": 2.5e-4,
        "lr_schedule": "linear",
        "lr_decay_frames": 40_000_000,
        "adam_eps": 1e-5,
        "precision": "fp32",
    },
}
"""Named sets of settings over the defaults (`kungfu train --preset NAME`); config.json
records the preset's name and every value the run used. `long`: the setting of the suite's
40M-frame table (docs/suite.md), tuned on Kung-Fu Master: the learning rate starts at 5e-4
and falls linearly to 0 over the budget. It keeps the actor-critic's single update step (one
pass, one minibatch), entropy 0.0025 and no max-pool: the defaults' one pass of four PPO
steps learned less under it at 40M frames (Pong, 7.85 over 20 games against 17.8).
`cleanrl-setup`: CleanRL's `ppo_atari_envpool.py` with its defaults, for checking this
pipeline against it (docs/peers.md): the papers' network without memory on 4 stacked 84×84
frames of the whole screen, no sticky actions, up to 30 no-op starts, FIRE after a start or
a lost life, a lost life ending the value target, clipped rewards, 8 games × 128 steps,
4 epochs × 4 minibatches of single steps, the ratio and the value clipped at 0.1, entropy
0.01, value weight 0.25 (CleanRL's 0.5 × ½ MSE), Adam 2.5e-4 with ε 1e-5 falling linearly
to 0 at 40M frames (CleanRL's 10M agent steps), in float32 as CleanRL computes. `atari`:
the same set-up under this package's protocol (sticky actions 0.25), the standard Atari
agent for the suite's games; since its rate falls over 40M frames whatever the budget, a
10M-frame run of it is the first quarter of a 40M one."""
PRESETS["atari"] = {k: v for k, v in PRESETS["cleanrl-setup"].items() if k != "sticky_actions"}

GAME_PRESET = "atari"
"""The preset `kungfu train --game G` starts from for every game but Kung-Fu Master."""
GAME_PRESET_WHY = (
    "the standard Atari agent, which learns as CleanRL's own PPO does on Breakout "
    "(docs/peers.md); the notebook's agent, tuned on Kung-Fu Master, learns little on the "
    "suite's other games (docs/suite.md)"
)


SETTINGS_ADDED: dict[str, Any] = {
    "reward_mode": "scale",
    "init": "torch",
    "input_norm": "none",
    "resize": "area",
    "frame_stack": 1,
    "frame_size": 42,
    "max_pool": False,
    "epochs": 1,
    "minibatches": 1,
    "clip_range": 0.1,
    "network": "notebook",
    "crop": "play",
    "press_fire": False,
    "lr_decay_frames": 0,
    "adam_eps": 1e-8,
    "clip_value": False,
    "minibatch_steps": False,
}
"""Settings added to the table after the first runs, each with the value the runs without it
used. A config.json that lacks one is read as this value, not as the current default, so
that changing a default does not change how an existing run (or the packaged agent) is
rebuilt."""


PRESET_HELP: dict[str, str] = {
    "long": "40M frames, lr 5e-4 falling linearly to 0, one actor-critic step per rollout "
    "(the suite's 40M-frame table)",
    "cleanrl-setup": "CleanRL's ppo_atari_envpool.py with its defaults (the papers' network "
    "on 4 stacked 84x84 frames, PPO), to check this pipeline against it",
    "atari": "cleanrl-setup with sticky actions 0.25 (this package's protocol): the "
    "standard Atari agent, for games other than Kung-Fu Master",
}
"""Each preset in a few words, for `kungfu train --help`; a preset added to PRESETS is
described here."""
