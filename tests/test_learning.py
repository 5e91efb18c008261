"""The notebook's claim, on a task made for it: memory is needed, and the LSTM has it."""

import numpy as np
import torch
from fakes import CueMemoryEnv

from kungfu_rl import EnvPool, RecurrentAgent, train_on_rollout


def train_on_cue_task(core: str, updates: int = 250, seed: int = 0, **update: float) -> float:
    """Train on CueMemoryEnv; return the mean reward per game over the last 200 games."""
    torch.manual_seed(seed)
    env = CueMemoryEnv()
    agent = RecurrentAgent(
        env.observation_space.shape, env.action_space.n, core=core, hidden=32, channels=8
    )
    pool = EnvPool(agent, CueMemoryEnv, n_parallel_games=16, seed=seed)
    optimizer = torch.optim.Adam(agent.parameters(), lr=3e-3)
    for _ in range(updates):
        memory = [m.clone() for m in pool.prev_memory_states]
        rollout = pool.interact(9)
        # rewards of ±1: no scaling; λ = 1, the notebook's n-step return
        train_on_rollout(
            agent, optimizer, *rollout, memory,
            reward_mode="scale", reward_scale=1.0, gae_lambda=1.0, max_grad_norm=1.0, **update,
        )  # fmt: skip
    return float(np.mean(pool.episode_scores[-200:]))


def test_lstm_and_gru_learn_the_cue_and_feedforward_cannot():
    lstm = train_on_cue_task("lstm")
    gru = train_on_cue_task("gru")
    feedforward = train_on_cue_task("none")
    # Without memory the best policy earns 0 on average (±0.07 over 200 games); solved is +1.
    assert lstm > 0.9, f"LSTM agent did not learn the memory task: {lstm:.2f}"
    assert gru > 0.9, f"GRU agent did not learn the memory task: {gru:.2f}"
    assert feedforward < 0.3, f"feedforward agent solved a memory task: {feedforward:.2f}"


def test_the_clipped_update_over_epochs_and_minibatches_learns_the_cue_too():
    """PPO's update (4 passes × 4 shares of the games) keeps the memory right: each share
    replays whole games from their own memory."""
    lstm = train_on_cue_task("lstm", updates=150, epochs=4, minibatches=4)
    feedforward = train_on_cue_task("none", updates=150, epochs=4, minibatches=4)
    assert lstm > 0.9, f"LSTM agent did not learn the memory task with PPO's update: {lstm:.2f}"
    assert feedforward < 0.3, f"feedforward agent solved a memory task: {feedforward:.2f}"
