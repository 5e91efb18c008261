"""Every training setting in one typed table, its presets and its validation.

A leaf: it imports neither torch nor ale-py, so that a command can check what a user typed
before any heavy import.
"""

from .settings import (
    CORES,
    DEVICES,
    FRAME_SIZES,
    INITS,
    INPUT_NORMS,
    LR_SCHEDULES,
    MAX_NAME_BYTES,
    MAX_SEED,
    PRECISIONS,
    PRESETS,
    RESIZES,
    RESUMABLE,
    REWARD_MODES,
    SETTINGS_ADDED,
    Config,
    ConfigError,
    Spec,
    UpdateSettings,
    flag,
    setting,
    spec_of,
)

__all__ = [
    "CORES",
    "DEVICES",
    "FRAME_SIZES",
    "INITS",
    "INPUT_NORMS",
    "LR_SCHEDULES",
    "MAX_NAME_BYTES",
    "MAX_SEED",
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
