"""The training replay: it recomputes exactly what the pool acted with, and it learns."""

import copy
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fakes import CountdownEnv
from recording import RecordingAgent

from kungfu_rl import (
    Config,
    EnvPool,
    RecurrentAgent,
    UpdateSettings,
    make_env,
    train_on_rollout,
)
from kungfu_rl.agent.networks import standardise_frames
from kungfu_rl.algo.loss import clipped_policy_loss, policy_gradient_loss
from kungfu_rl.algo.rewards import ReturnNormalizer


@pytest.mark.parametrize(
    "core, precision", [("lstm", "fp32"), ("gru", "fp32"), ("none", "fp32"), ("lstm", "bf16")]
)
def test_replayed_logits_equal_acting_logits(core, precision):
    agent = RecordingAgent((1, 42, 42), 3, core=core, hidden=16, channels=4, precision=precision)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=5, seed=3)
    pool.interact(4)  # start mid-game: the rollout's first state is no game start
    agent.logits_out.clear()
    memory = [m.clone() for m in pool.prev_memory_states]
    obs, _, _, is_not_done = pool.interact(12)
    assert (is_not_done[:, :-1] == 0).sum() >= 5  # several episode ends inside the rollout
    acted = torch.stack(agent.logits_out)  # [T-1, B, A]
    obs_t = torch.from_numpy(obs).transpose(0, 1)  # [T, B, 1, 42, 42]
    mask_t = torch.from_numpy(is_not_done).transpose(0, 1)  # [T, B]
    with torch.no_grad():
        replayed, _, final = agent.unroll(obs_t, tuple(memory), mask_t)
    # bf16: the replay's batch of T×B frames may round differently from the acting's B
    tol = 1e-5 if precision == "fp32" else 1e-3
    torch.testing.assert_close(replayed[:-1], acted, rtol=tol, atol=tol)
    # the replay's memory after step T-2 is the pool's memory for the next rollout
    with torch.no_grad():
        _, _, final = agent.unroll(obs_t[:-1], tuple(memory), mask_t[:-1])
    assert len(final) == len(pool.prev_memory_states) == {"lstm": 2, "gru": 1, "none": 0}[core]
    for replayed_memory, pool_memory in zip(final, pool.prev_memory_states, strict=True):
        torch.testing.assert_close(replayed_memory, pool_memory, rtol=tol, atol=tol)


@pytest.mark.parametrize("game", ["atari", "fake"])
def test_the_acting_policy_kept_by_play_is_the_replays_so_ppo_may_skip_its_replay(game):
    """play(n, policy=True): log π of each action taken and V of every observation, the last
    included, are what a replay computes; PPO's update from them is the update from its own
    replay (the Atari pool overlaps its two halves)."""
    short_game = functools.partial(make_env, max_frames=40)  # games end every 10 steps
    make, n_actions = {"atari": (short_game, 14), "fake": (CountdownEnv, 3)}[game]
    agent = RecurrentAgent(make().observation_space.shape, n_actions, hidden=16, channels=4)
    pool = EnvPool(agent, make, n_parallel_games=4, seed=3, overlap=True)
    pool.play(4)  # start mid-game
    memory = [m.clone() for m in pool.prev_memory_states]
    r = pool.play(13, policy=True)
    assert (r.is_not_done[:, :-1] == 0).sum() >= 4  # games ended inside the rollout
    act = torch.from_numpy(r.actions).T  # [T+1, B]
    with torch.no_grad():
        logits, values, _ = agent.unroll(
            torch.from_numpy(r.observations).transpose(0, 1),
            tuple(memory),
            torch.from_numpy(r.is_not_done).T,
        )
    log_pi = F.log_softmax(logits, -1).gather(-1, act.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(torch.from_numpy(r.log_pi).T[:-1], log_pi[:-1])
    torch.testing.assert_close(torch.from_numpy(r.values).T, values)  # V(s_T) too
    twins = [agent, copy.deepcopy(agent)]
    unrolls = []

    def counted(unroll, calls, *args):
        calls.append(1)
        return unroll(*args)

    for twin, behaviour in zip(twins, [(r.log_pi, r.values), None], strict=True):
        optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)
        calls = []
        twin.unroll = functools.partial(counted, twin.unroll, calls)
        torch.manual_seed(0)  # the same shares in each pass
        rollout = (r.observations, r.actions, r.rewards, r.is_not_done)
        train_on_rollout(
            twin, optimizer, *rollout, memory, reward_mode="clip", epochs=2, minibatches=2,
            behaviour=behaviour,
        )  # fmt: skip
        unrolls.append(len(calls))
    assert unrolls == [4, 5]  # 2 passes × 2 shares, and without `behaviour` one replay more
    for a, b in zip(*(t.parameters() for t in twins), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("game", ["atari", "fake"])
def test_an_interact_rollout_replayed_the_notebooks_way_gives_the_acting(game):
    """The course's own train_on_rollout: float32 states, step by step, memory zeroed where
    is_not_done is 0, over the n - 1 played steps: the pool's logits and memory, exactly."""
    short_game = functools.partial(make_env, max_frames=40)  # games end every 10 steps
    make = {"atari": short_game, "fake": CountdownEnv}[game]
    agent = RecordingAgent(make().observation_space.shape, 3 if game == "fake" else 14)
    pool = EnvPool(agent, make, n_parallel_games=3, seed=4, env_threads=1)
    pool.interact(5)  # start mid-game
    agent.logits_out.clear()
    memory = [m.clone() for m in pool.prev_memory_states]
    states, _, _, is_not_done = pool.interact(16)
    assert (is_not_done[:, :-1] == 0).any()  # games ended inside the rollout
    states = torch.tensor(np.asarray(states), dtype=torch.float32)  # the notebook's conversion
    assert states.max() <= 1.0

    replayed = []
    with torch.no_grad():
        for t in range(states.shape[1] - 1):
            memory, (logits, _) = agent(tuple(memory), states[:, t])
            replayed.append(logits)
            memory = [m * torch.as_tensor(is_not_done[:, t])[:, None] for m in memory]
    for t, (acted, again) in enumerate(zip(agent.logits_out, replayed, strict=True)):
        torch.testing.assert_close(again, acted, rtol=0, atol=0, msg=f"step {t}")
    for again, kept in zip(memory, pool.prev_memory_states, strict=True):
        torch.testing.assert_close(again, kept, rtol=0, atol=0)
    pool.close()


def test_train_on_rollout_learns_as_kungfu_train_does_without_keywords():
    """One source of defaults: the update's settings are Config's."""
    assert UpdateSettings() == Config().update_settings
    rollout = _rollout_for_defaults()
    by_default = _one_update(rollout)
    assert torch.equal(by_default, _one_update(rollout, Config().update_settings))
    assert not torch.equal(by_default, _one_update(rollout, reward_mode="scale"))
    assert not torch.equal(by_default, _one_update(rollout, gae_lambda=1.0))


def test_normalized_rewards_need_the_normalizer_and_go_through_it():
    """The default reward mode divides by the return's running deviation: the normalizer
    takes in the T real steps (not the placeholder), and the loss sees its output."""
    assert Config().reward_mode == "normalize"
    obs, actions, rewards, mask = _rollout_for_defaults()  # [B, T+1]
    agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    with pytest.raises(ValueError, match="needs normalizer="):
        train_on_rollout(agent, optimizer, obs, actions, rewards, mask, agent.get_initial_state(3))
    normalizer = ReturnNormalizer(3, Config().gamma)
    through_it = _one_update((obs, actions, rewards, mask), normalizer=normalizer)
    assert normalizer.count == 3 * 5  # B × T steps; the placeholder left out
    by_hand = np.zeros_like(rewards)
    by_hand[:, :-1] = ReturnNormalizer(3, Config().gamma)(rewards[:, :-1], mask[:, :-1])
    assert 0 < np.abs(by_hand).max() < np.abs(rewards).max() / 10  # Kung-Fu's 100s shrunk
    given = _one_update((obs, actions, by_hand, mask), reward_mode="scale", reward_scale=1.0)
    assert torch.equal(through_it, given)
    as_tensors = [torch.from_numpy(np.ascontiguousarray(x)) for x in (obs, actions, rewards, mask)]
    assert torch.equal(through_it, _one_update(as_tensors))  # torch inputs alike
    with pytest.raises(ValueError, match="keeps 2 games' returns, the rollout has 3"):
        _one_update((obs, actions, rewards, mask), normalizer=ReturnNormalizer(2, 0.99))
    one_step = (obs[:, :1], actions[:, :1], rewards[:, :1], mask[:, :1])
    normalizer = ReturnNormalizer(3, 0.99)
    with pytest.raises(ValueError, match="at least 2 observations"):
        _one_update(one_step, normalizer=normalizer)
    assert normalizer.count == 0  # refused before it took anything in


def _rollout_for_defaults():
    rng = np.random.default_rng(1)
    B, T = 3, 5
    obs = rng.random((B, T + 1, 1, 42, 42), dtype=np.float32)
    actions = rng.integers(0, 3, (B, T + 1))
    rewards = (100 * rng.integers(0, 3, (B, T + 1))).astype(np.float32)  # Kung-Fu's sizes
    mask = np.ones((B, T + 1), np.float32)
    mask[0, 2] = 0
    return obs, actions, rewards, mask


def _one_update(rollout, *args, **kwargs):
    """Parameters after one Adam step of a fixed small agent (a fresh normalizer unless one
    is given)."""
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    memory = agent.get_initial_state(3)
    kwargs.setdefault("normalizer", ReturnNormalizer(3, Config().gamma))
    train_on_rollout(agent, optimizer, *rollout, memory, *args, **kwargs)
    return torch.cat([p.detach().flatten() for p in agent.parameters()])


def test_unroll_matches_a_step_by_step_loop_with_random_resets():
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 4, hidden=8, channels=4)
    T, B = 7, 3
    obs = torch.rand(T, B, 1, 42, 42)
    mask = (torch.rand(T, B) > 0.3).float()
    state = agent.get_initial_state(B)
    logits_loop, values_loop = [], []
    for t in range(T):
        state, (logits, values) = agent(state, obs[t])
        logits_loop.append(logits)
        values_loop.append(values)
        state = tuple(s * mask[t, :, None] for s in state)
    logits, values, _ = agent.unroll(obs, agent.get_initial_state(B), mask)
    torch.testing.assert_close(logits, torch.stack(logits_loop))
    torch.testing.assert_close(values, torch.stack(values_loop))


def test_uint8_and_float_observations_give_the_same_outputs():
    agent = RecurrentAgent((1, 42, 42), 4, hidden=8, channels=4)
    pixels = torch.randint(0, 256, (2, 1, 42, 42), dtype=torch.uint8)
    state = agent.get_initial_state(2)
    _, (a, _) = agent.step(state, pixels)
    _, (b, _) = agent.step(state, pixels.float() / 255.0)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_train_on_rollout_updates_and_reports():
    agent = RecurrentAgent((1, 42, 42), 3, hidden=16, channels=4)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=4, seed=0)
    memory = [m.clone() for m in pool.prev_memory_states]
    before = [p.detach().clone() for p in agent.parameters()]
    normalizer = ReturnNormalizer(4, Config().gamma)
    metrics = train_on_rollout(agent, optimizer, *pool.interact(6), memory, normalizer=normalizer)
    assert set(metrics) >= {"loss/total", "loss/policy", "loss/value", "loss/entropy"}
    assert np.isfinite(list(metrics.values())).all()
    assert metrics["loss/skipped"] == 0
    assert 0 < metrics["loss/entropy"] <= np.log(3) + 1e-6
    assert any((p != q).any() for p, q in zip(agent.parameters(), before, strict=True))


def test_non_finite_loss_skips_the_step():
    agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=2, seed=0)
    memory = [m.clone() for m in pool.prev_memory_states]
    obs, actions, rewards, is_not_done = pool.interact(4)
    rewards = rewards.copy()
    rewards[0, 0] = np.nan
    before = [p.detach().clone() for p in agent.parameters()]
    metrics = train_on_rollout(
        agent, optimizer, obs, actions, rewards, is_not_done, memory, reward_mode="scale",
        minibatches=1,
    )  # fmt: skip
    assert metrics["loss/skipped"] == 1
    for p, q in zip(agent.parameters(), before, strict=True):
        assert torch.equal(p, q)


def _one_sgd_update(obs, actions, rewards, mask, value_ends=None):
    """Parameters after one SGD step of a fixed small agent on this rollout [B, T+1, ...]."""
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
    optimizer = torch.optim.SGD(agent.parameters(), lr=0.1)
    memory = tuple(torch.randn(2, 8) for _ in range(2))  # mid-game memory
    train_on_rollout(
        agent, optimizer, obs, actions, rewards, mask, memory,
        reward_mode="scale", gae_lambda=1.0, max_grad_norm=1e9, value_ends=value_ends,
    )  # fmt: skip
    return torch.cat([p.detach().flatten() for p in agent.parameters()])


def test_value_ends_cut_the_returns_but_not_the_memory():
    rng = np.random.default_rng(0)
    B, T = 2, 6
    obs = rng.integers(0, 256, (B, T + 1, 1, 42, 42), dtype=np.uint8)
    actions = rng.integers(0, 3, (B, T + 1))
    rewards = rng.normal(size=(B, T + 1)).astype(np.float32)
    mask = np.ones((B, T + 1), np.float32)
    base = _one_sgd_update(obs, actions, rewards, mask)
    torch.testing.assert_close(_one_sgd_update(obs, actions, rewards, mask, 0 * mask), base)

    # a life lost at the last transition: the observation after it is never bootstrapped from
    ends = np.zeros_like(mask)
    ends[:, T - 1] = 1
    other_last = obs.copy()
    other_last[:, T] = 255 - obs[:, T]
    with_ends = _one_sgd_update(obs, actions, rewards, mask, ends)
    torch.testing.assert_close(_one_sgd_update(other_last, actions, rewards, mask, ends), with_ends)
    assert not torch.allclose(_one_sgd_update(other_last, actions, rewards, mask), base)

    # a life lost mid-rollout cuts the returns as a game end would, but keeps the memory
    ends = np.zeros_like(mask)
    ends[:, 2] = 1
    cut_returns = _one_sgd_update(obs, actions, rewards, mask, ends)
    game_end = mask.copy()
    game_end[:, 2] = 0
    assert not torch.allclose(cut_returns, base)
    assert not torch.allclose(cut_returns, _one_sgd_update(obs, actions, rewards, game_end))


@pytest.mark.parametrize("input_norm", ["none", "frame"])
def test_channels_last_convolutions_give_the_channels_first_outputs(input_norm):
    """The agent keeps its conv stack channels-last (faster on CPU); the numbers must not move."""
    torch.manual_seed(0)
    agent = RecurrentAgent((1, 42, 42), 5, hidden=16, channels=8, input_norm=input_norm)
    scaled = standardise_frames if input_norm == "frame" else (lambda x: x)
    obs = torch.randint(0, 256, (6, 4, 1, 42, 42), dtype=torch.uint8)
    mask = (torch.rand(6, 4) > 0.2).float()
    memory = tuple(torch.randn(4, 16) for _ in range(2))
    fast_logits, fast_values, _ = agent.unroll(obs, memory, mask)
    fast_logits.sum().backward()
    fast_grads = [p.grad.clone() for p in agent.conv.parameters()]
    agent.zero_grad()
    agent.conv.to(memory_format=torch.contiguous_format)
    agent.encode_conv = lambda x: agent.conv(scaled(x.float() / 255.0))  # the plain path
    assert agent.conv[0].weight.is_contiguous()
    logits, values, _ = agent.unroll(obs, memory, mask)
    logits.sum().backward()
    torch.testing.assert_close(fast_logits, logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast_values, values, rtol=1e-5, atol=1e-5)
    for fast, plain in zip(fast_grads, agent.conv.parameters(), strict=True):
        torch.testing.assert_close(fast, plain.grad, rtol=1e-4, atol=1e-5)


def test_bf16_conv_stack_stays_close_to_fp32_in_features_and_gradients():
    """precision='bf16' changes only the conv stack's arithmetic: same weights, close outputs."""
    torch.manual_seed(0)
    fp32 = RecurrentAgent()
    bf16 = RecurrentAgent(precision="bf16")
    bf16.load_state_dict(fp32.state_dict())
    pool = EnvPool(fp32, make_env, n_parallel_games=4, seed=1, env_threads=1)
    obs = torch.from_numpy(pool.play(6).observations.reshape(-1, 1, 42, 42))  # real frames
    pool.close()
    features = {}
    for name, agent in (("fp32", fp32), ("bf16", bf16)):
        x = agent.encode(obs)
        assert x.dtype == torch.float32
        assert all(p.dtype == torch.float32 for p in agent.parameters())
        x.square().sum().backward()
        features[name] = x.detach()
    # bfloat16 keeps 8 bits of mantissa: a few parts in a thousand, not more
    scale = features["fp32"].abs().max()
    assert (features["bf16"] - features["fp32"]).abs().max() < 0.02 * scale
    assert not torch.equal(features["bf16"], features["fp32"])  # it did compute in bf16
    grads = [
        (p32.grad, p16.grad)
        for p32, p16 in zip(fp32.parameters(), bf16.parameters(), strict=True)
        if p32.grad is not None  # the conv stack and the dense layer
    ]
    assert len(grads) == 8
    for g32, g16 in grads:
        assert F.cosine_similarity(g32.flatten(), g16.flatten(), dim=0) > 0.99


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        RecurrentAgent(precision="fp16")


def test_the_loss_weights_default_to_configs():
    """actor_critic_loss called without weights (as the notebook does) uses Config's."""
    import inspect

    from kungfu_rl.algo.loss import actor_critic_loss
    from kungfu_rl.config import Config

    params = inspect.signature(actor_critic_loss).parameters
    assert params["entropy_coef"].default == Config().entropy_coef
    assert params["value_coef"].default == Config().value_coef


def test_the_clipped_policy_loss_has_the_policy_gradient_at_ratio_one():
    torch.manual_seed(0)
    logits = torch.randn(5, 3, 4, requires_grad=True)
    actions = torch.randint(0, 4, (5, 3))
    advantages = torch.randn(5, 3)
    old = F.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1).detach()
    (g_a2c,) = torch.autograd.grad(policy_gradient_loss(logits, actions, advantages), logits)
    clipped, moved = clipped_policy_loss(logits, actions, advantages, old, 0.1)
    (g_ppo,) = torch.autograd.grad(clipped, logits)
    torch.testing.assert_close(g_ppo, g_a2c)
    assert moved == {"loss/clip_fraction": 0.0, "loss/approx_kl": 0.0}


def test_the_clipped_policy_loss_stops_pushing_past_the_clip():
    logits = torch.zeros(1, 2, 2, requires_grad=True)  # π = (0.5, 0.5)
    actions = torch.zeros(1, 2, dtype=torch.int64)
    old = torch.log(torch.tensor([[0.25, 0.25]]))  # ratio 2: beyond 1 + 0.2
    loss, moved = clipped_policy_loss(logits, actions, torch.tensor([[1.0, -1.0]]), old, 0.2)
    (grad,) = torch.autograd.grad(loss, logits)
    assert moved["loss/clip_fraction"] == 1
    assert moved["loss/approx_kl"] == pytest.approx(1 - np.log(2))  # (ρ − 1) − log ρ at ρ = 2
    assert torch.equal(grad[0, 0], torch.zeros(2))  # a good action already made likelier: no push
    assert grad[0, 1].abs().sum() > 0  # a bad one made likelier: pushed back


def test_epochs_and_minibatches_take_one_step_per_share_per_pass():
    agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=4, seed=0)
    memory = [m.clone() for m in pool.prev_memory_states]
    before = [p.detach().clone() for p in agent.parameters()]
    metrics = train_on_rollout(
        agent, optimizer, *pool.interact(6), memory, reward_mode="clip", epochs=3, minibatches=2
    )
    assert metrics["loss/skipped"] == 0
    assert np.isfinite(list(metrics.values())).all()
    assert all(optimizer.state[p]["step"] == 6 for p in agent.parameters())
    assert any((p != q).any() for p, q in zip(agent.parameters(), before, strict=True))
    # the first step starts at π_old and later ones move away: the means over the steps
    assert 0 <= metrics["loss/clip_fraction"] < 1
    assert metrics["loss/approx_kl"] > 0
    # a share of one game and one step: its advantage is centred, not divided by a NaN
    memory = [m.clone() for m in pool.prev_memory_states]
    metrics = train_on_rollout(
        agent, optimizer, *pool.interact(2), memory, reward_mode="clip", minibatches=4
    )
    assert metrics["loss/skipped"] == 0


@pytest.mark.parametrize("games, minibatches, shares", [(5, 2, [2, 3]), (3, 4, [1, 1, 1])])
def test_minibatches_split_any_number_of_games_into_near_equal_shares(
    games, minibatches, shares, monkeypatch
):
    """5 games in 2 minibatches are shares of 3 and 2; 3 games in 4 are one game each; every
    game is in one share of the pass, with its own memory."""
    agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
    optimizer = torch.optim.Adam(agent.parameters(), lr=1e-3)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=games, seed=0)
    memory = [torch.randn_like(m) for m in pool.prev_memory_states]  # a row tells a game
    replayed = []  # per unroll: the memory's first tensor [games in it, hidden]
    unroll = agent.unroll

    def recording_unroll(obs, memory, mask):
        replayed.append(memory[0].detach().clone())
        return unroll(obs, memory, mask)

    monkeypatch.setattr(agent, "unroll", recording_unroll)
    train_on_rollout(
        agent, optimizer, *pool.interact(4), memory, reward_mode="clip", minibatches=minibatches
    )
    assert replayed[0].shape[0] == games  # π_old and the values: one replay of all the games
    assert sorted(m.shape[0] for m in replayed[1:]) == shares
    rows = torch.cat(replayed[1:])
    order = rows[:, 0].argsort()
    torch.testing.assert_close(rows[order], memory[0][memory[0][:, 0].argsort()])
    assert all(optimizer.state[p]["step"] == len(shares) for p in agent.parameters())


def test_old_runs_read_as_the_single_step_they_took():
    old = Config.from_dict({"game": "Pong"})  # a config.json from before epochs and minibatches
    assert (old.epochs, old.minibatches, old.max_pool) == (1, 1, False)
    assert Config().validate().minibatches == 4  # today's default: 4 steps of one pass
