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
"""

from .agent.networks import RecurrentAgent
from .agent.pool import EnvPool
from .algo.rewards import ReturnNormalizer
from .algo.update import train_on_rollout
from .config import Config, UpdateSettings
from .envs.atari import make_env
from .play.evaluate import evaluate
from .runs.loading import load_agent
from .training.launch import resume, train

__version__ = "0.1.0"

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
