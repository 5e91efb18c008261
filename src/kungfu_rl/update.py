"""One gradient update from a rollout: replay -> returns -> loss -> Adam step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from .agent import RecurrentAgent
from .loss import actor_critic_loss
from .returns import gae_advantages

ArrayLike = np.ndarray | torch.Tensor


def _tensor(x: ArrayLike, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    t = torch.from_numpy(x) if isinstance(x, np.ndarray) else x
    return t.to(device=device, dtype=dtype or t.dtype)


def train_on_rollout(
    agent: RecurrentAgent,
    optimizer: torch.optim.Optimizer,
    states: ArrayLike,
    actions: ArrayLike,
    rewards: ArrayLike,
    is_not_done: ArrayLike,
    prev_memory_states: Sequence[torch.Tensor],
    *,
    gamma: float = 0.99,
    gae_lambda: float = 1.0,
    entropy_coef: float = 0.01,
    value_coef: float = 0.5,
    reward_scale: float = 1.0,
    max_grad_norm: float = 0.5,
    value_ends: ArrayLike | None = None,
    features: torch.Tensor | None = None,
    time_major: bool = False,
    sync: Callable[[list[torch.Tensor], bool], bool] | None = None,
) -> dict[str, float]:
    """The notebook's `train_on_rollout`, done right, for a rollout from `EnvPool.interact`.

    states [B, T+1, C, H, W] (uint8 or float), actions/rewards/is_not_done [B, T+1], as
    `interact(T + 1)` returns them: the last entry is only the observation to bootstrap from
    (its action, reward and mask are placeholders). `time_major=True` takes [T+1, B, ...].
    `prev_memory_states` is the pool's memory before the rollout, (h, c) each [B, hidden].

    The replay zeroes memory where the pool did; returns are cut at episode ends and
    bootstrapped from V(s_T); advantages are GAE(λ) (λ = 1: the n-step formula).
    `value_ends` [B, T+1] (1 where a life was lost, say) also cuts the returns there,
    without touching the memory: the game and its memory go on.
    `features` [B, T+1, hidden] (`EnvPool.play(keep_features=True)`), computed while acting
    with these same weights, spare the replay the conv stack's forward pass.
    A non-finite loss or gradient skips the step (`loss/skipped` = 1).
    `sync(grads, loss_is_nonfinite) -> any_rank_nonfinite` averages the gradients over the
    ranks of a distributed run (see `distributed.GradientSync`) before the clip.
    Returns the loss metrics and the gradient norm.
    """
    device = agent.device
    obs = _tensor(states, device)
    act = _tensor(actions, device, torch.int64)
    rew = _tensor(rewards, device, torch.float32)
    mask = _tensor(is_not_done, device, torch.float32)
    cut = mask if value_ends is None else mask * (1 - _tensor(value_ends, device, torch.float32))
    if not time_major:
        obs, act, rew, mask, cut = (x.transpose(0, 1) for x in (obs, act, rew, mask, cut))
        features = None if features is None else features.transpose(0, 1)
    T = obs.shape[0] - 1  # transitions; obs[T] is only bootstrapped from
    if T < 1:
        raise ValueError("a rollout needs at least 2 observations (interact(n_steps >= 2))")
    memory = tuple(m.detach().to(device) for m in prev_memory_states)

    logits, values, _ = agent.unroll(obs, memory, mask, features)  # [T+1, B, A], [T+1, B]
    bootstrap = values[T].detach()  # [B]
    logits, values = logits[:T], values[:T]
    rew, cut, act = rew[:T] * reward_scale, cut[:T], act[:T]  # [T, B]

    advantages = gae_advantages(rew, values.detach(), cut, bootstrap, gamma, gae_lambda)
    returns = advantages + values.detach()  # [T, B]
    loss, metrics = actor_critic_loss(
        logits,
        values,
        act,
        returns,
        advantages,
        entropy_coef=entropy_coef,
        value_coef=value_coef,
    )

    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    finite_loss = bool(torch.isfinite(loss))
    if sync is not None:
        finite_loss = not sync([p.grad for p in agent.parameters()], not finite_loss)
    grad_norm = torch.nn.utils.clip_grad_norm_(agent.parameters(), max_grad_norm)
    finite = finite_loss and bool(torch.isfinite(grad_norm))
    if finite:
        optimizer.step()
    else:
        optimizer.zero_grad(set_to_none=True)
    metrics["loss/grad_norm"] = float(grad_norm)
    metrics["loss/skipped"] = 0.0 if finite else 1.0
    return metrics
