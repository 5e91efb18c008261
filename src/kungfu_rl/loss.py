"""The advantage actor-critic loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def policy_gradient_loss(
    logits: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor
) -> torch.Tensor:
    """−mean log π(a_t|s_t) · A_t, with A detached. logits [T, B, A]; actions, advantages [T, B]."""
    log_probs = F.log_softmax(logits, dim=-1)
    log_pi_a = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)  # [T, B]
    return -(log_pi_a * advantages.detach()).mean()


def value_loss(values: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """Mean squared error of V(s_t) against the (detached) returns. Both [T, B]."""
    return F.mse_loss(values, returns.detach())


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean policy entropy −Σ_a π(a|s) log π(a|s) over [T, B]."""
    log_probs = F.log_softmax(logits, dim=-1)
    return -(log_probs.exp() * log_probs).sum(-1).mean()


def actor_critic_loss(
    logits: torch.Tensor,
    values: torch.Tensor,
    actions: torch.Tensor,
    returns: torch.Tensor,
    advantages: torch.Tensor,
    *,
    entropy_coef: float,
    value_coef: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """policy loss + value_coef · value MSE − entropy_coef · entropy (their defaults are
    `Config`'s, the one source of them: see `UpdateSettings`).

    logits [T, B, A]; values, actions, returns, advantages [T, B].
    Returns the scalar loss and its parts as floats, keyed `loss/...`.
    """
    pg = policy_gradient_loss(logits, actions, advantages)
    vl = value_loss(values, returns)
    ent = entropy(logits)
    loss = pg + value_coef * vl - entropy_coef * ent
    metrics = {
        "loss/total": loss.item(),
        "loss/policy": pg.item(),
        "loss/value": vl.item(),
        "loss/entropy": ent.item(),
    }
    return loss, metrics
