"""Reward modes: scale, clip, and the running normalisation of returns (and its resume)."""

import json

import numpy as np
import pytest
import torch
from test_resume import FRAMES_PER_UPDATE, tiny

from kungfu_rl.algo.rewards import ReturnNormalizer, rewards_for_loss
from kungfu_rl.algo.update import train_on_rollout
from kungfu_rl.runs.checkpoints import list_checkpoints, read_newest_checkpoint
from kungfu_rl.runs.checkpoints import read_checkpoint as load_checkpoint
from kungfu_rl.training.launch import resume, train


def test_scale_and_clip():
    r = torch.tensor([[0.0, 100.0], [-3.0, 0.5]])
    assert torch.equal(rewards_for_loss(r, "scale", 0.01), r * 0.01)
    assert torch.equal(rewards_for_loss(r, "clip", 0.01), torch.tensor([[0.0, 1.0], [-1.0, 0.5]]))
    assert torch.equal(rewards_for_loss(r, "normalize", 0.01), r)
    with pytest.raises(ValueError, match="unknown reward mode"):
        rewards_for_loss(r, "square", 1.0)


def test_normalizer_divides_by_the_deviation_of_every_discounted_return_seen():
    rng = np.random.default_rng(0)
    B, gamma = 3, 0.9
    norm = ReturnNormalizer(B, gamma)
    running = np.zeros(B)
    seen = []
    for _ in range(4):  # four rollouts of 5 steps, games ending here and there
        rewards = rng.choice([0.0, 100.0, 800.0], size=(B, 5)).astype(np.float32)
        not_done = (rng.random((B, 5)) > 0.2).astype(np.float32)
        for t in range(5):  # the definition, one step at a time
            running = gamma * running + rewards[:, t]
            seen.extend(running)
            running = running * not_done[:, t]
        out = norm(rewards, not_done)
    assert norm.count == len(seen)
    assert norm.mean == pytest.approx(np.mean(seen)) and norm.var == pytest.approx(np.var(seen))
    np.testing.assert_allclose(out, rewards / np.sqrt(np.var(seen) + 1e-8), rtol=1e-5)
    assert out.dtype == np.float32


def test_a_games_return_is_cut_where_it_ends():
    norm = ReturnNormalizer(1, gamma=1.0)
    norm(np.array([[1.0, 1.0, 1.0]]), np.array([[1.0, 0.0, 1.0]]))  # game ends at step 1
    assert norm.mean == pytest.approx((1 + 2 + 1) / 3)  # returns 1, 2, then 1 again


def test_bad_statistics_are_refused():
    norm = ReturnNormalizer(2, 0.99)
    for state in (
        {"count": 1.0, "mean": 0.0},
        {"count": -1, "mean": 0, "var": 1},
        {"count": 1, "mean": float("nan"), "var": 1},
        "text",
    ):
        with pytest.raises(ValueError):
            norm.load_state_dict(state)
    norm.load_state_dict({"count": 5, "mean": 2.0, "var": 4.0})
    assert norm.state_dict() == {"count": 5.0, "mean": 2.0, "var": 4.0}


def test_normalize_mode_trains_saves_and_resumes_its_statistics(tmp_path):
    run = train(tiny(tmp_path, updates=8, reward_mode="normalize")).run_dir
    assert json.loads((run / "config.json").read_text())["reward_mode"] == "normalize"
    state = load_checkpoint(list_checkpoints(run)[-1])["reward_normalizer"]
    # 8 updates × 2 games × 4 steps of returns seen
    assert state["count"] == 8 * 2 * 4 and state["var"] >= 0
    resumed = resume(run, {"frames": 12 * FRAMES_PER_UPDATE})
    after = load_checkpoint(list_checkpoints(resumed.run_dir)[-1])["reward_normalizer"]
    assert after["count"] == 12 * 2 * 4  # carried on, not started again


def test_a_checkpoint_with_damaged_reward_statistics_is_skipped(tmp_path):
    run = train(tiny(tmp_path, updates=8, reward_mode="normalize")).run_dir
    newest = list_checkpoints(run)[-1]
    payload = load_checkpoint(newest)
    payload["reward_normalizer"] = {"count": "many", "mean": 0.0, "var": 1.0}
    torch.save(payload, newest)
    path, _, skipped = read_newest_checkpoint(run)
    assert path != newest and [p for p, _ in skipped] == [newest]
    assert "reward statistic 'count'" in skipped[0][1]


def test_clip_mode_learns_from_clipped_rewards():
    """The update in clip mode equals scale mode on rewards clipped by hand."""
    torch.manual_seed(0)
    from kungfu_rl.agent.networks import RecurrentAgent

    B, T = 2, 4
    obs = torch.rand(B, T + 1, 1, 42, 42)
    actions = torch.randint(0, 3, (B, T + 1))
    rewards = torch.tensor([[0.0, 200.0, -5.0, 0.3, 0.0]] * B)
    mask = torch.ones(B, T + 1)
    results = []
    for mode, r in (("clip", rewards), ("scale", rewards.clamp(-1, 1))):
        torch.manual_seed(1)
        agent = RecurrentAgent((1, 42, 42), 3, hidden=8, channels=4)
        opt = torch.optim.Adam(agent.parameters(), lr=1e-3)
        memory = agent.get_initial_state(B)
        results.append(
            train_on_rollout(
                agent, opt, obs, actions, r, mask, memory, reward_mode=mode, reward_scale=1.0
            )
        )
    assert results[0] == results[1]
