"""Returns and GAE against values worked out by hand, with episode ends mid-rollout."""

import itertools

import pytest
import torch

from kungfu_rl.algo.returns import gae_advantages, n_step_returns


def test_n_step_returns_by_hand():
    gamma = 0.5
    # T = 3, B = 2. Game 0 ends at t = 1; game 1 never ends.
    rewards = torch.tensor([[1.0, 0.0], [2.0, 0.0], [4.0, 8.0]])
    is_not_done = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    bootstrap = torch.tensor([16.0, 32.0])
    got = n_step_returns(rewards, is_not_done, bootstrap, gamma)
    # game 0: G2 = 4 + .5*16 = 12; G1 = 2 (cut); G0 = 1 + .5*2 = 2
    # game 1: G2 = 8 + .5*32 = 24; G1 = 0 + 12 = 12; G0 = 6
    expected = torch.tensor([[2.0, 6.0], [2.0, 12.0], [12.0, 24.0]])
    torch.testing.assert_close(got, expected)


def test_episode_end_at_last_step_does_not_bootstrap():
    got = n_step_returns(torch.tensor([[1.0]]), torch.tensor([[0.0]]), torch.tensor([100.0]), 0.9)
    torch.testing.assert_close(got, torch.tensor([[1.0]]))


def test_gae_by_hand():
    gamma, lam = 0.5, 0.5
    rewards = torch.tensor([[1.0], [2.0], [4.0]])
    values = torch.tensor([[1.0], [2.0], [3.0]])
    is_not_done = torch.tensor([[1.0], [0.0], [1.0]])
    bootstrap = torch.tensor([4.0])
    # deltas: d0 = 1 + .5*2 - 1 = 1; d1 = 2 - 2 = 0 (cut); d2 = 4 + .5*4 - 3 = 3
    # A2 = 3; A1 = 0 (cut: no A2); A0 = 1 + .25*0 = 1
    got = gae_advantages(rewards, values, is_not_done, bootstrap, gamma, lam)
    torch.testing.assert_close(got, torch.tensor([[1.0], [0.0], [3.0]]))


def slow_returns(rewards, is_not_done, bootstrap, gamma):
    """A plain-Python truth: sum discounted rewards forward until an end or the rollout's end."""
    T, B = rewards.shape
    out = torch.zeros(T, B)
    for b in range(B):
        for t in range(T):
            g, discount = 0.0, 1.0
            for k in range(t, T):
                g += discount * float(rewards[k, b])
                if is_not_done[k, b] == 0:
                    break
                discount *= gamma
            else:
                g += discount * float(bootstrap[b])
            out[t, b] = g
    return out


@pytest.mark.parametrize("gamma,T", list(itertools.product([0.0, 0.5, 0.99, 1.0], [1, 2, 7])))
def test_gae_lambda_one_is_the_n_step_return(gamma, T):
    g = torch.Generator().manual_seed(T)
    B = 5
    rewards = torch.randn(T, B, generator=g)
    values = torch.randn(T, B, generator=g)
    is_not_done = (torch.rand(T, B, generator=g) > 0.3).float()
    bootstrap = torch.randn(B, generator=g)
    truth = slow_returns(rewards, is_not_done, bootstrap, gamma)
    torch.testing.assert_close(n_step_returns(rewards, is_not_done, bootstrap, gamma), truth)
    adv = gae_advantages(rewards, values, is_not_done, bootstrap, gamma, 1.0)
    torch.testing.assert_close(adv + values, truth)


def test_gae_lambda_zero_is_the_one_step_td_error():
    rewards, values = torch.randn(4, 3), torch.randn(4, 3)
    is_not_done, bootstrap = torch.ones(4, 3), torch.randn(3)
    next_values = torch.cat([values[1:], bootstrap[None]])
    adv = gae_advantages(rewards, values, is_not_done, bootstrap, 0.9, 0.0)
    torch.testing.assert_close(adv, rewards + 0.9 * next_values - values)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="bootstrap must be"):
        n_step_returns(torch.zeros(3, 2), torch.ones(3, 2), torch.zeros(3), 0.9)
    with pytest.raises(ValueError, match="must match"):
        n_step_returns(torch.zeros(3, 2), torch.ones(2, 3), torch.zeros(2), 0.9)
