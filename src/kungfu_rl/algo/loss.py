"""The advantage actor-critic loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import UpdateSettings

_DEFAULTS = UpdateSettings()


def _mean(x: torch.Tensor, chosen: torch.Tensor | None) -> torch.Tensor:
    """The mean of x [T, B] over all steps, or with `chosen` [T, B] (1 or 0) over the steps
    it marks (0 where it marks none)."""
    if chosen is None:
        return x.mean()
    return (x * chosen).sum() / chosen.sum().clamp_min(1)


def policy_gradient_loss(
    logits: torch.Tensor,
    actions: torch.Tensor,
    advantages: torch.Tensor,
    chosen: torch.Tensor | None = None,
) -> torch.Tensor:
    """−mean log π(a_t|s_t) · A_t, with A detached. logits [T, B, A]; actions, advantages [T, B].
    With `chosen` [T, B] the mean is over the steps whose action the policy chose (1) and
    leaves out those the pool pressed itself (0: FIRE after a start or a lost life)."""
    log_probs = F.log_softmax(logits, dim=-1)
    log_pi_a = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)  # [T, B]
    return -_mean(log_pi_a * advantages.detach(), chosen)


def clipped_policy_loss(
    logits: torch.Tensor,
    actions: torch.Tensor,
    advantages: torch.Tensor,
    old_log_pi: torch.Tensor,
    clip_range: float,
    chosen: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's −mean min(ρ·A, clip(ρ, 1 ± ε)·A), ρ = π(a|s) / π_old(a|s), and how far the
    policy moved: `loss/clip_fraction`, the share of steps whose ratio is past the clip, and
    `loss/approx_kl`, mean (ρ − 1) − log ρ (an estimate of KL(π_old ‖ π) that is never
    negative). logits [T, B, A]; actions, advantages, old_log_pi [T, B]. At ρ = 1 its
    gradient is the policy gradient's. With `chosen` [T, B] all three means are over the
    steps whose action the policy chose: an action the pool pressed itself may be one the
    policy gives almost no probability, whose ratio has no bound on the side that the clip
    leaves open (A < 0)."""
    log_pi_a = F.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    log_ratio = log_pi_a - old_log_pi.detach()
    ratio = torch.exp(log_ratio)
    adv = advantages.detach()
    clipped = torch.clamp(ratio, 1 - clip_range, 1 + clip_range)
    loss = -_mean(torch.min(ratio * adv, clipped * adv), chosen)
    with torch.no_grad():
        moved = {
            "loss/clip_fraction": _mean(((ratio - 1).abs() > clip_range).float(), chosen).item(),
            "loss/approx_kl": _mean((ratio - 1) - log_ratio, chosen).item(),
        }
    return loss, moved


def value_loss(
    values: torch.Tensor,
    returns: torch.Tensor,
    old_values: torch.Tensor | None = None,
    clip_range: float = _DEFAULTS.clip_range,
) -> torch.Tensor:
    """Mean squared error of V(s_t) against the (detached) returns. Both [T, B].

    With `old_values` [T, B] (the acting network's V), PPO's clipped form: per step the
    larger of (V − R)² and (V_old + clip(V − V_old, ±clip_range) − R)², so that one update
    gains nothing by moving V further than clip_range from V_old."""
    returns = returns.detach()
    if old_values is None:
        return F.mse_loss(values, returns)
    old = old_values.detach()
    kept = old + torch.clamp(values - old, -clip_range, clip_range)
    return torch.max((values - returns) ** 2, (kept - returns) ** 2).mean()


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
    entropy_coef: float = _DEFAULTS.entropy_coef,
    value_coef: float = _DEFAULTS.value_coef,
    old_log_pi: torch.Tensor | None = None,
    clip_range: float = _DEFAULTS.clip_range,
    old_values: torch.Tensor | None = None,
    chosen: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """policy loss + value_coef · value MSE − entropy_coef · entropy (the weights default
    to `Config`'s, the one source of defaults). The policy loss is the policy gradient's,
    or with `old_log_pi` [T, B] PPO's clipped one (`clipped_policy_loss`, whose two
    measures of how far the policy moved join the metrics); with `old_values` [T, B] the
    value loss is clipped as well (`value_loss`). With `chosen` [T, B] the policy loss is
    over the steps whose action the policy chose (1), not those the pool pressed itself
    (0); the value and the entropy are over every step.

    logits [T, B, A]; values, actions, returns, advantages [T, B].
    Returns the scalar loss and its parts as floats, keyed `loss/...`.
    """
    moved: dict[str, float] = {}
    if old_log_pi is None:
        pg = policy_gradient_loss(logits, actions, advantages, chosen)
    else:
        pg, moved = clipped_policy_loss(logits, actions, advantages, old_log_pi, clip_range, chosen)
    vl = value_loss(values, returns, old_values, clip_range)
    ent = entropy(logits)
    loss = pg + value_coef * vl - entropy_coef * ent
    metrics = {
        "loss/total": loss.item(),
        "loss/policy": pg.item(),
        "loss/value": vl.item(),
        "loss/entropy": ent.item(),
        **moved,
    }
    return loss, metrics
