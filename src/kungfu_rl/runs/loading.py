"""A run's network and games built from its config, and a trained agent loaded in one call."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..agent.networks import RecurrentAgent
from ..config import Config, ConfigError
from ..envs.atari import AtariGame
from ..envs.games import GameSettings
from ..runtime.machine import pick_device, pick_precision
from .checkpoints import CHECKPOINT_DIR, find_checkpoint, read_checkpoint
from .errors import CheckpointError
from .files import settle


def game_settings(config: Config) -> GameSettings:
    """How `config` plays its game."""
    return GameSettings(
        game=config.game,
        repeat_action_probability=config.sticky_actions,
        frameskip=config.frameskip,
        noop_max=config.noop_max,
        max_frames=config.max_episode_frames,
        area=config.crop,
        press_fire=config.press_fire,
        resize=config.resize,
        frame_size=config.frame_size,
        frame_stack=config.frame_stack,
        max_pool=config.max_pool,
    )


def env_factory(config: Config) -> functools.partial[AtariGame]:
    """The one way this run makes a game, for the pool and for evaluation alike."""
    return functools.partial(AtariGame, game_settings(config))


def build_agent(
    config: Config, obs_shape: tuple[int, ...], n_actions: int, device: torch.device
) -> RecurrentAgent:
    """The run's network on `device`, its conv stack in the precision `config` resolves to."""
    return RecurrentAgent(
        obs_shape,
        n_actions,
        core=config.core,
        hidden=config.hidden,
        channels=config.channels,
        init=config.init,
        input_norm=config.input_norm,
        network=config.network,
        precision=pick_precision(config.precision, device),
    ).to(device)


def restore_agent(agent: RecurrentAgent, payload: dict[str, Any], path: Path) -> None:
    """Load a checkpoint's weights into `agent`; CheckpointError if they do not fit it."""
    try:
        agent.load_state_dict(payload["model"])
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"{path} does not fit its own network settings ({first[:200]})"
        ) from None


@dataclass
class LoadedAgent:
    """A trained agent with what it was trained with."""

    agent: RecurrentAgent
    """In eval mode, on the device asked for."""
    config: Config
    path: Path
    """The checkpoint file it came from."""
    payload: dict[str, Any]
    """The whole checkpoint: counters (`update`, `frames`), evaluations, optimizer state."""


PRETRAINED = "pretrained"
"""The name that stands for the agent shipped inside the package."""
PRETRAINED_FILE = Path(__file__).parents[1] / "pretrained" / "KungFuMaster.pt"
"""Model weights and the config that trained them (no optimizer); beside it, a JSON with
the command, commit, frames and 20-game evaluation that produced them."""


def agent_file(path: Path | str, best: bool = False) -> Path:
    """The checkpoint file that `path` names: "pretrained" (the packaged agent), a file, or
    a run folder's newest checkpoint (its best.pt with `best`)."""
    if str(path) == PRETRAINED:
        return PRETRAINED_FILE
    path = Path(path)
    if best and path.is_dir():
        best_pt = path / CHECKPOINT_DIR / "best.pt"
        if not best_pt.is_file():
            raise CheckpointError(f"{path} has no best.pt yet (it is written at evaluations)")
        return best_pt
    return find_checkpoint(path)


def load_agent(
    path: Path | str = PRETRAINED, device: str = "cpu", best: bool = False
) -> LoadedAgent:
    """A trained agent from a checkpoint file, a run folder's newest checkpoint (`best`: its
    best evaluation's), or the one shipped in the package ("pretrained", the default).

    `load_agent("runs/KungFuMaster-<stamp>").agent` plays like the run did; `.config` is
    the run's `Config`. Loaded with `weights_only=True`: no pickled code runs.
    """
    path = agent_file(path, best)
    payload = read_checkpoint(path)
    try:
        config = settle(Config.from_json(payload["config"]))
    except ConfigError as e:
        raise CheckpointError(f"{path} holds a config that does not validate: {e}") from None
    env = env_factory(config)()
    try:
        shape, n_actions = env.observation_space.shape, env.action_space.n
    finally:
        env.close()
    agent = build_agent(config, shape, n_actions, pick_device(device))
    restore_agent(agent, payload, path)
    agent.eval()
    return LoadedAgent(agent=agent, config=config, path=path, payload=payload)
