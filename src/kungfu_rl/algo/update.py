"""One gradient update from a rollout: replay -> returns -> loss -> Adam step."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ..agent.networks import RecurrentAgent
from ..config import UpdateSettings
from .loss import actor_critic_loss
from .returns import gae_advantages
from .rewards import ReturnNormalizer, rewards_for_loss

ArrayLike = np.ndarray | torch.Tensor


class _Replay(NamedTuple):
    """A rollout on the update's device, time-major: obs [T+1, B, C, H, W]; act, rew,
    mask (memory resets) and cut (return cuts) [T+1, B]; memory, the pool's before it;
    chosen [T+1, B], 1 where the policy chose the action (None: it chose every one)."""

    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    mask: torch.Tensor
    cut: torch.Tensor
    memory: tuple[torch.Tensor, ...]
    chosen: torch.Tensor | None = None


def _time_major(
    x: ArrayLike, device: torch.device, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """[B, T, ...] array -> [T, B, ...] tensor on `device` (a view where it can be)."""
    t = torch.from_numpy(x) if isinstance(x, np.ndarray) else x
    return t.to(device=device, dtype=dtype or t.dtype).transpose(0, 1)


def train_on_rollout(
    agent: RecurrentAgent,
    optimizer: torch.optim.Optimizer,
    states: ArrayLike,
    actions: ArrayLike,
    rewards: ArrayLike,
    is_not_done: ArrayLike,
    prev_memory_states: Sequence[torch.Tensor],
    settings: UpdateSettings | None = None,
    *,
    normalizer: ReturnNormalizer | None = None,
    value_ends: ArrayLike | None = None,
    forced: ArrayLike | None = None,
    behaviour: tuple[ArrayLike, ArrayLike] | None = None,
    sync: Callable[[list[torch.Tensor], bool], bool] | None = None,
    **overrides: float,
) -> dict[str, float]:
    """The notebook's `train_on_rollout`, done right, for a rollout from `EnvPool.interact`.

    states [B, T+1, C, H, W] (float in [0, 1], or uint8 pixels), actions/rewards/is_not_done
    [B, T+1], as `interact(T + 1)` returns them: the last entry is only the observation to
    bootstrap from (its action, reward and mask are placeholders). `prev_memory_states` is
    the pool's memory before the rollout, a tuple of [B, hidden] tensors.

    `settings` (default: `UpdateSettings()`, whose values are `Config`'s, so this learns as
    `kungfu train` does); keywords such as `reward_mode="clip"` override single fields. With
    `reward_mode="normalize"` (the default) pass the `normalizer`
    (`ReturnNormalizer(games, gamma)`, one kept across updates, as the trainer
    does): it takes in this rollout's rewards and divides them by the return's running
    deviation; without it a ValueError says so.
    The replay zeroes memory where the pool did; returns are cut at episode ends and
    bootstrapped from V(s_T); advantages are GAE(λ) (λ = 1: the n-step formula).
    `value_ends` [B, T+1] (1 where a life was lost, say) also cuts the returns there,
    without touching the memory: the game and its memory go on.
    `forced` [B, T+1] (`Rollout.forced`: 1 where the pool pressed FIRE itself) leaves those
    steps out of the policy loss: their value is learned, but an action the policy did not
    choose is not one to make likelier or rarer.
    With `epochs` or `minibatches` above 1 (`UpdateSettings.clipped`) the update is PPO's:
    π_old and the advantages from one replay, then `epochs` passes of `minibatches` steps,
    each on a share of whole games (of single steps with `minibatch_steps`), with the
    clipped policy loss (`clipped_policy_loss`) and with `clip_value` the clipped value loss.
    `behaviour` = (log π(a_t|s_t), V(s_t)), both [B, T+1], as the acting network gave them
    (`Rollout.log_pi`, `Rollout.values`, with the same weights as now), spares PPO's update
    that replay.
    A non-finite loss or gradient skips the step (`loss/skipped` = 1).
    `sync(grads, loss_is_nonfinite) -> any_rank_nonfinite` averages the gradients over the
    ranks of a distributed run (see `training.distributed.GradientSync`) before the clip.
    Returns the loss metrics and the gradient norm.
    """
    s = dataclasses.replace(settings or UpdateSettings(), **overrides)
    device = agent.device
    obs = _time_major(states, device)  # [T+1, B, C, H, W]
    T = obs.shape[0] - 1  # transitions; obs[T] is only bootstrapped from
    if T < 1:
        raise ValueError("a rollout needs at least 2 observations (interact(n_steps >= 2))")
    if s.reward_mode == "normalize":
        rewards = _normalized(rewards, is_not_done, normalizer)
    act = _time_major(actions, device, torch.int64)  # [T+1, B]
    rew = _time_major(rewards, device, torch.float32)
    mask = _time_major(is_not_done, device, torch.float32)
    cut = mask
    if value_ends is not None:
        cut = mask * (1 - _time_major(value_ends, device, torch.float32))
    memory = tuple(m.detach().to(device) for m in prev_memory_states)
    chosen = None if forced is None else 1 - _time_major(forced, device, torch.float32)
    replay = _Replay(obs, act, rew, mask, cut, memory, chosen)
    if s.clipped:
        if behaviour is not None:
            behaviour = tuple(_time_major(x, device, torch.float32) for x in behaviour)
        return _clipped_epochs(agent, optimizer, replay, s, sync, behaviour)
    loss, metrics = _replay_loss(agent, replay, s)
    return _step(agent, optimizer, loss, metrics, s.max_grad_norm, sync)


def _targets(
    values: torch.Tensor, r: _Replay, s: UpdateSettings
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE advantages and value targets, both [T, B], from the replay's values [T+1, B]
    (detached here; values[T] is only bootstrapped from)."""
    T = values.shape[0] - 1
    values = values.detach()
    rew = rewards_for_loss(r.rew[:T], s.reward_mode, s.reward_scale)  # [T, B]
    advantages = gae_advantages(rew, values[:T], r.cut[:T], values[T], s.gamma, s.gae_lambda)
    return advantages, advantages + values[:T]


def _clipped_epochs(
    agent: RecurrentAgent,
    optimizer: torch.optim.Optimizer,
    r: _Replay,
    s: UpdateSettings,
    sync: Callable[[list[torch.Tensor], bool], bool] | None,
    behaviour: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> dict[str, float]:
    """PPO's update on one rollout: advantages and π_old from `behaviour` (log π [T+1, B],
    V [T+1, B], time-major) or else from one replay without gradients, then `s.epochs`
    passes of `s.minibatches` steps each (`_minibatches`: shares of whole games, or of
    single steps with `s.minibatch_steps`). With `s.clip_value` the value
    loss is clipped around the acting network's V. Returns every loss metric as its mean
    over all steps (`loss/skipped`: 1 if any step was skipped) and the explained variance."""
    T, B = r.obs.shape[0] - 1, r.obs.shape[1]
    act = r.act[:T]
    if behaviour is not None:
        old_log_pi, values = behaviour[0][:T], behaviour[1]  # [T, B], [T+1, B]
    else:
        with torch.no_grad():
            logits, values, _ = agent.unroll(r.obs, r.memory, r.mask)  # [T+1, B, A], [T+1, B]
            old_log_pi = F.log_softmax(logits[:T], dim=-1)
            old_log_pi = old_log_pi.gather(-1, act.unsqueeze(-1)).squeeze(-1)  # [T, B]
    advantages, returns = _targets(values, r, s)
    old_values = values[:T].detach()  # [T, B]
    sums: dict[str, float] = {}
    steps, skipped = 0, 0.0
    for _ in range(s.epochs):
        for take, memory in _minibatches(r, T, B, s.minibatches, s.minibatch_steps):
            obs, mask = take(r.obs[:T]), take(r.mask[:T])  # [T', B', C, H, W], [T', B']
            logits, values, _ = agent.unroll(obs, memory, mask)
            adv = take(advantages)
            adv = adv - adv.mean()
            if adv.numel() > 1:  # one step of one game has no deviation to divide by
                adv = adv / (adv.std() + 1e-8)
            loss, metrics = actor_critic_loss(
                logits,
                values,
                take(act),
                take(returns),
                adv,
                entropy_coef=s.entropy_coef,
                value_coef=s.value_coef,
                old_log_pi=take(old_log_pi),
                clip_range=s.clip_range,
                old_values=take(old_values) if s.clip_value else None,
                chosen=None if r.chosen is None else take(r.chosen[:T]),
            )
            metrics = _step(agent, optimizer, loss, metrics, s.max_grad_norm, sync)
            skipped = max(skipped, metrics.pop("loss/skipped"))
            for key, value in metrics.items():
                sums[key] = sums.get(key, 0.0) + value
            steps += 1
    metrics = {key: total / steps for key, total in sums.items()}
    metrics["loss/skipped"] = skipped
    metrics["loss/explained_variance"] = explained_variance(old_values, returns)
    return metrics


def _minibatches(
    r: _Replay, T: int, B: int, n: int, single_steps: bool
) -> list[tuple[Callable[[torch.Tensor], torch.Tensor], tuple[torch.Tensor, ...]]]:
    """One pass's minibatches, in a fresh random order: for each, a function that takes a
    minibatch out of a [T, B, ...] tensor and the memory it starts from.

    A minibatch is a share of whole games ([T, games, ...]), which replays its memory from
    the rollout's start; shares differ by at most one game, and with fewer games than `n`
    each game is a share. With `single_steps` (a network without memory only) it is a share
    of the T × B single steps of any game, as one [1, steps, ...] row (the papers' and
    CleanRL's PPO)."""
    device = r.obs.device
    if single_steps:
        order = torch.randperm(T * B, device=device)
        shares = torch.tensor_split(order, min(n, T * B))
        return [(lambda x, i=i: x[i // B, i % B].unsqueeze(0), ()) for i in shares]
    order = torch.randperm(B, device=device)
    shares = torch.tensor_split(order, min(n, B))  # sizes differ by at most one game
    return [(lambda x, g=g: x[:, g], tuple(m[g] for m in r.memory)) for g in shares]


def explained_variance(values: torch.Tensor, returns: torch.Tensor) -> float:
    """1 − Var(R − V) / Var(R) over all steps: 1 when V predicts the returns, 0 when it does
    no better than their mean, below 0 when worse; NaN when the returns do not vary.
    values, returns [T, B]."""
    var = returns.float().var(correction=0)
    if var == 0:
        return float("nan")
    return float(1 - (returns - values).float().var(correction=0) / var)


def _normalized(
    rewards: ArrayLike, is_not_done: ArrayLike, normalizer: ReturnNormalizer | None
) -> np.ndarray:
    """rewards [B, T+1] divided by `normalizer` (which takes them in); the last entry is a
    placeholder, left out of the statistics and returned as 0."""
    if normalizer is None:
        raise ValueError(
            'reward_mode="normalize" needs normalizer=kungfu_rl.ReturnNormalizer(games, gamma), '
            'one kept across updates (or reward_mode="scale" or "clip")'
        )
    raw, alive = _numpy(rewards), _numpy(is_not_done)  # [B, T+1]
    if raw.shape[0] != normalizer.returns.shape[0]:
        raise ValueError(
            f"the normalizer keeps {normalizer.returns.shape[0]} games' returns, "
            f"the rollout has {raw.shape[0]} games"
        )
    out = np.zeros(raw.shape, dtype=np.float32)
    out[:, :-1] = normalizer(raw[:, :-1], alive[:, :-1])
    return out


def _numpy(x: ArrayLike) -> np.ndarray:
    """A float32 numpy copy or view of x, from numpy or from a torch tensor on any device."""
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _replay_loss(
    agent: RecurrentAgent, r: _Replay, s: UpdateSettings
) -> tuple[torch.Tensor, dict[str, float]]:
    """Replay the rollout, GAE advantages and returns, the loss."""
    T = r.obs.shape[0] - 1
    logits, values, _ = agent.unroll(r.obs, r.memory, r.mask)  # [T+1, B, A], [T+1, B]
    advantages, returns = _targets(values, r, s)  # [T, B]
    loss, metrics = actor_critic_loss(
        logits[:T],
        values[:T],
        r.act[:T],
        returns,
        advantages,
        entropy_coef=s.entropy_coef,
        value_coef=s.value_coef,
        chosen=None if r.chosen is None else r.chosen[:T],
    )
    metrics["loss/explained_variance"] = explained_variance(values[:T].detach(), returns)
    return loss, metrics


def _step(
    agent: RecurrentAgent,
    optimizer: torch.optim.Optimizer,
    loss: torch.Tensor,
    metrics: dict[str, float],
    max_grad_norm: float,
    sync: Callable[[list[torch.Tensor], bool], bool] | None,
) -> dict[str, float]:
    """Backward, average over ranks (`sync`), clip, Adam step; skipped if not finite."""
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
