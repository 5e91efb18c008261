"""Every training setting in one typed table, its presets and its validation.

A leaf: it imports neither torch nor ale-py, so that a command can check what a user typed
before any heavy import.

    settings.py     Config (the table), RESUMABLE
    update.py       UpdateSettings, what one update needs of a Config
    presets.py      PRESETS (kungfu train --preset), the preset a game starts from,
                    SETTINGS_ADDED
    validation.py   ConfigError, Spec and how a value is checked against it, flag()
    choices.py      the choices and limits the table draws on
"""

from .choices import (
    CORES,
    CROPS,
    DEVICES,
    FRAME_SIZES,
    INITS,
    INPUT_NORMS,
    LR_SCHEDULES,
    MAX_NAME_BYTES,
    MAX_SEED,
    NETWORKS,
    PRECISIONS,
    RESIZES,
    REWARD_MODES,
)
from .presets import GAME_PRESET, PRESETS, SETTINGS_ADDED
from .settings import RESUMABLE, Config
from .update import UpdateSettings
from .validation import ConfigError, Spec, flag, setting, spec_of

__all__ = [
    "CORES",
    "CROPS",
    "DEVICES",
    "FRAME_SIZES",
    "GAME_PRESET",
    "INITS",
    "INPUT_NORMS",
    "LR_SCHEDULES",
    "MAX_NAME_BYTES",
    "MAX_SEED",
    "NETWORKS",
    "PRECISIONS",
    "PRESETS",
    "RESIZES",
    "RESUMABLE",
    "REWARD_MODES",
    "SETTINGS_ADDED",
    "Config",
    "ConfigError",
    "Spec",
    "UpdateSettings",
    "flag",
    "setting",
    "spec_of",
]
