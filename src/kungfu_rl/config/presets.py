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
}
"""Named sets of settings over the defaults (`kungfu train --preset NAME`); config.json
records the preset's name and every value the run used. `long`: the setting of the suite's
40M-frame table (docs/suite.md), tuned on Kung-Fu Master: the learning rate starts at 5e-4
and falls linearly to 0 over the budget. It keeps the actor-critic's single update step (one
pass, one minibatch), entropy 0.0025 and no max-pool: the defaults' one pass of four PPO
steps learned less under it at 40M frames (Pong, 7.85 over 20 games against 17.8)."""


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
}
"""Settings added to the table after the first runs, each with the value the runs without it
used. A config.json that lacks one is read as this value, not as the current default, so
that changing a default does not change how an existing run (or the packaged agent) is
rebuilt."""


PRESET_HELP: dict[str, str] = {
    "long": "40M frames, lr 5e-4 falling linearly to 0, one actor-critic step per rollout "
    "(the suite's 40M-frame table)",
}
"""Each preset in a few words, for `kungfu train --help`; a preset added to PRESETS is
described here."""
