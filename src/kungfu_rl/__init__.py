"""kungfu_rl: a recurrent (LSTM) advantage actor-critic for Atari Kung-Fu Master, from pixels.

The notebook's names:

    env = make_env()                      # (1, 42, 42) float32 in [0, 1], 14 actions
    agent = RecurrentAgent(env.observation_space.shape, env.action_space.n)
    pool = EnvPool(agent, make_env, n_parallel_games=16)
    normalizer = ReturnNormalizer(16, gamma=0.99)            # one, kept across updates
    obs, actions, rewards, is_not_done = pool.interact(20)   # [games, time, ...]
    train_on_rollout(agent, optimizer, obs, actions, rewards, is_not_done, memory,
                     normalizer=normalizer)
    evaluate(agent, env, n_games=3)       # raw game scores

Each name is imported when it is first asked for (PEP 562), so that `import kungfu_rl` and
`kungfu --help` import neither torch nor ale-py. The layers, lowest first:

    config/     the settings table, presets, validation (no torch, no ale-py)
    runtime/    device, threads, precision, allocator, versions
    envs/       games, crops, preprocessing, the single and vector envs
    agent/      networks, their memory, the pool of games
    algo/       returns, reward handling, losses, the update
    play/       full-game evaluation, videos
    runs/       the run folder: lock, checkpoints, config and eval records, metrics, report
    training/   the loop, its saved state, evaluation during training, launch, distribution
    cli/        kungfu train | eval | watch | plot | report | games
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .runtime.versions import __version__ as __version__

if TYPE_CHECKING:
    from .agent.networks import RecurrentAgent
    from .agent.pool import EnvPool
    from .algo.rewards import ReturnNormalizer
    from .algo.update import train_on_rollout
    from .config import Config, UpdateSettings
    from .envs.atari import make_env
    from .play.evaluate import evaluate
    from .runs.loading import load_agent
    from .training.launch import resume, train

_HOMES = {
    "Config": ".config",
    "EnvPool": ".agent.pool",
    "RecurrentAgent": ".agent.networks",
    "ReturnNormalizer": ".algo.rewards",
    "UpdateSettings": ".config",
    "evaluate": ".play.evaluate",
    "load_agent": ".runs.loading",
    "make_env": ".envs.atari",
    "resume": ".training.launch",
    "train": ".training.launch",
    "train_on_rollout": ".algo.update",
}
"""Each public name and the module it is defined in."""

__all__ = [
    "Config",
    "EnvPool",
    "RecurrentAgent",
    "ReturnNormalizer",
    "UpdateSettings",
    "evaluate",
    "load_agent",
    "make_env",
    "resume",
    "train",
    "train_on_rollout",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value  # asked for again, it is found without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
