"""Returns and advantages: pure functions over time-major [T, B] tensors.

Conventions: step t of game b has reward r[t, b]; is_not_done[t, b] = 0 exactly where game b
ended at step t, so nothing after step t belongs to that game's return. `bootstrap` [B] is
V(s_T), the value of the observation after the rollout's last step.
"""

from __future__ import annotations

import torch


def _check(rewards: torch.Tensor, is_not_done: torch.Tensor, bootstrap: torch.Tensor) -> None:
    if rewards.dim() != 2:
        raise ValueError(f"rewards must be [T, B], got shape {tuple(rewards.shape)}")
    if is_not_done.shape != rewards.shape:
        raise ValueError(
            f"is_not_done {tuple(is_not_done.shape)} must match rewards {tuple(rewards.shape)}"
        )
    if bootstrap.shape != rewards.shape[1:]:
        raise ValueError(
            f"bootstrap must be [B] = {tuple(rewards.shape[1:])}, got {tuple(bootstrap.shape)}"
        )


def n_step_returns(
    rewards: torch.Tensor, is_not_done: torch.Tensor, bootstrap: torch.Tensor, gamma: float
) -> torch.Tensor:
    """G_t = r_t + γ · m_t · G_{t+1}, with G_T = V(s_T) and m_t = is_not_done[t].

    rewards, is_not_done [T, B]; bootstrap [B] -> returns [T, B].
    """
    _check(rewards, is_not_done, bootstrap)
    mask = is_not_done.to(rewards.dtype)
    returns = torch.empty_like(rewards)
    g = bootstrap.to(rewards.dtype)
    for t in reversed(range(rewards.shape[0])):
        g = rewards[t] + gamma * mask[t] * g
        returns[t] = g
    return returns


def gae_advantages(
    rewards: torch.Tensor,
    values: torch.Tensor,
    is_not_done: torch.Tensor,
    bootstrap: torch.Tensor,
    gamma: float,
    lam: float,
) -> torch.Tensor:
    """Generalised advantage estimation, GAE(λ).

    δ_t = r_t + γ · m_t · V(s_{t+1}) − V(s_t);  A_t = δ_t + γ · λ · m_t · A_{t+1};  A_T = 0.
    With λ = 1, A_t + V(s_t) is the n-step return of `n_step_returns`.
    rewards, values, is_not_done [T, B]; bootstrap [B] -> advantages [T, B].
    """
    _check(rewards, is_not_done, bootstrap)
    if values.shape != rewards.shape:
        raise ValueError(f"values {tuple(values.shape)} must match rewards {tuple(rewards.shape)}")
    mask = is_not_done.to(rewards.dtype)
    next_values = torch.cat([values[1:], bootstrap.unsqueeze(0)])  # [T, B]: V(s_{t+1})
    deltas = rewards + gamma * mask * next_values - values
    advantages = torch.empty_like(rewards)
    a = torch.zeros_like(bootstrap, dtype=rewards.dtype)
    for t in reversed(range(rewards.shape[0])):
        a = deltas[t] + gamma * lam * mask[t] * a
        advantages[t] = a
    return advantages
