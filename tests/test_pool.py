"""EnvPool: shapes, the is_not_done mask, and memory zeroed for exactly the games that ended."""

import functools

import numpy as np
import pytest
import torch
from fakes import CountdownEnv, LivesEnv
from recording import RecordingAgent

from kungfu_rl import EnvPool, RecurrentAgent, make_env


def test_ale_pool_shapes_and_dtypes():
    agent = RecurrentAgent()
    pool = EnvPool(agent, make_env, n_parallel_games=4, seed=0, env_threads=1)
    obs, actions, rewards, is_not_done = pool.interact(6)
    # what make_env gives: float32 in [0, 1]
    assert obs.shape == (4, 6, 1, 42, 42) and obs.dtype == np.float32
    assert obs.min() >= 0 and obs.max() <= 1 and obs.max() > 0
    assert actions.shape == rewards.shape == is_not_done.shape == (4, 6)
    assert actions.dtype == np.int64 and rewards.dtype == np.float32
    assert ((actions >= 0) & (actions < 14)).all()
    # entry n - 1 only carries the observation to bootstrap from
    assert (actions[:, -1] == 0).all() and (rewards[:, -1] == 0).all()
    assert (is_not_done[:, -1] == 1).all()
    # the next rollout starts where this one stopped
    last = obs[:, -1].copy()
    obs2, *_ = pool.interact(3)
    np.testing.assert_array_equal(obs2[:, 0], last)
    assert pool.prev_memory_states[0].shape == (4, 128)
    # the trainer's own path keeps uint8 pixels, the same values × 255
    fast = pool.play(3).observations
    assert fast.dtype == np.uint8 and fast.shape == (4, 3, 1, 42, 42)
    pool.close()


def test_mask_marks_exactly_the_steps_where_games_ended():
    agent = RecordingAgent((1, 42, 42), 3, hidden=16, channels=4)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=6, seed=1)
    obs, _, rewards, is_not_done = pool.interact(30)
    step_number = np.round(obs[:, :, 0, 0, 0] * 10)  # [B, T]: CountdownEnv shows its step
    ended = is_not_done[:, :-1] == 0
    assert ended.any() and (~ended).any()
    # a game ended at t exactly when step t+1 shows a fresh game (step number 0)
    np.testing.assert_array_equal(ended, step_number[:, 1:] == 0)
    assert (rewards[:, :-1] == 1).all()
    # finished games' scores are their lengths (CountdownEnv pays 1 a step)
    assert pool.episode_scores and all(2 <= s <= 6 for s in pool.episode_scores)
    assert pool.episode_lengths == [int(s) for s in pool.episode_scores]


@pytest.mark.parametrize("core", ["lstm", "gru"])
def test_memory_is_zeroed_for_exactly_the_games_that_ended(core):
    agent = RecordingAgent((1, 42, 42), 3, core=core, hidden=16, channels=4)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=6, seed=2)
    _, _, _, is_not_done = pool.interact(30)
    for t in range(1, 29):
        memory = torch.cat(agent.memories_in[t], dim=1)  # every memory tensor step t saw
        zero = (memory == 0).all(dim=1).numpy()
        np.testing.assert_array_equal(zero, is_not_done[:, t - 1] == 0, err_msg=f"step {t}")
    # and the memory the pool keeps for the next rollout
    last_ended = is_not_done[:, -2] == 0
    kept = (torch.cat(pool.prev_memory_states, dim=1) == 0).all(dim=1).numpy()
    np.testing.assert_array_equal(kept, last_ended)


def test_real_ale_games_that_end_get_their_memory_zeroed():
    # Games truncated after 80 frames (20 agent steps) end at step 19 of every rollout start.
    short_game = functools.partial(make_env, max_frames=80)
    agent = RecordingAgent()
    pool = EnvPool(agent, short_game, n_parallel_games=3, seed=0, env_threads=1)
    _, _, _, is_not_done = pool.interact(26)
    assert (is_not_done[:, 19] == 0).all()
    assert is_not_done[:, :19].all() and is_not_done[:, 20:].all()
    assert all((m == 0).all() for m in agent.memories_in[20])
    assert all((m != 0).any(dim=1).all() for m in agent.memories_in[19])
    assert len(pool.episode_scores) == 3
    pool.close()


def test_feedforward_core_runs_in_the_pool():
    agent = RecurrentAgent((1, 42, 42), 3, core="none", hidden=16, channels=4)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=2, seed=0)
    obs, *_ = pool.interact(4)
    assert obs.shape == (2, 4, 1, 42, 42)
    assert pool.prev_memory_states == ()  # it remembers nothing


class PixelSumAgent(RecordingAgent):
    """Acts from the pixels alone (sum mod A): the same actions however games are batched."""

    def step(self, prev_state, obs_t):
        self.last_obs = np.asarray(obs_t)
        return super().step(prev_state, obs_t)

    def sample_actions(self, agent_outputs):
        n_actions = agent_outputs[0].shape[-1]
        pixels = self.last_obs.reshape(len(self.last_obs), -1).astype(np.int64)
        return (pixels @ np.arange(pixels.shape[1]) % n_actions).astype(np.int64)


def test_overlapped_halves_play_exactly_as_one_batch():
    """overlap=True steps two vector envs in turn; every game must see what it saw before."""
    rollouts, logits, memories = [], [], []
    for overlap in (False, True):
        torch.manual_seed(0)
        agent = PixelSumAgent()
        game = functools.partial(make_env, max_frames=400)  # games end at step 100
        pool = EnvPool(agent, game, n_parallel_games=6, seed=5, env_threads=1, overlap=overlap)
        assert len(pool.envs) == (2 if overlap else 1)
        rollouts.append([pool.play(61) for _ in range(2)])  # the screen moves from step ~72
        # per step, the halves' logits side by side: [steps, 6, A]
        steps = agent.logits_out
        if overlap:
            steps = [torch.cat(steps[i : i + 2]) for i in range(0, len(steps), 2)]
        logits.append(torch.stack(steps))
        memories.append(pool.prev_memory_states)
        pool.close()
    for sync, split in zip(*rollouts, strict=True):
        for name, a, b in zip(sync._fields, sync, split, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert (rollouts[0][1].is_not_done == 0).any()  # games did end
    assert len(np.unique(rollouts[0][1].actions)) > 3  # and the actions vary
    torch.testing.assert_close(logits[0], logits[1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(memories[0], memories[1], rtol=1e-5, atol=1e-6)


def test_life_lost_marks_lost_lives_but_not_game_ends():
    agent = RecurrentAgent((1, 42, 42), 2, hidden=8, channels=4)
    pool = EnvPool(agent, LivesEnv, n_parallel_games=2, seed=0)
    rollout = pool.play(13)  # 12 steps: lives lost after steps 3 and 6, game over at 9
    expected = np.zeros(13, dtype=np.float32)
    expected[[2, 5]] = 1  # step index t = step number - 1
    expected[[11]] = 1  # the next game's first lost life
    for b in range(2):
        np.testing.assert_array_equal(rollout.life_lost[b], expected)
        assert rollout.is_not_done[b, 8] == 0 and rollout.is_not_done[b].sum() == 12
    pool.close()


def test_acting_threads_apply_while_playing_and_are_restored():
    seen = []

    class ThreadsAgent(RecordingAgent):
        def step(self, prev_state, obs_t):
            seen.append(torch.get_num_threads())
            return super().step(prev_state, obs_t)

    agent = ThreadsAgent((1, 42, 42), 3, hidden=16, channels=4)
    pool = EnvPool(agent, CountdownEnv, n_parallel_games=2, seed=0, acting_threads=1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        pool.play(4)
        assert seen == [1, 1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_runs_resize_reaches_the_pool_and_the_evaluation_games():
    from kungfu_rl.config import Config
    from kungfu_rl.envs.preprocessing import preprocess
    from kungfu_rl.runs.loading import env_factory

    config = Config(game="Pong", resize="max", hidden=16, channels=8)
    make = env_factory(config)
    assert make().settings.resize == "max"  # what `kungfu eval` and `watch` play
    pool = EnvPool(RecurrentAgent((1, 42, 42), 6, hidden=16, channels=8), make, 2, seed=0)
    frames, _ = pool.envs[0].reset(seed=0)
    np.testing.assert_array_equal(
        pool._observe(frames), preprocess(frames[:, 0], pool.settings.crop, "max")
    )
    assert not np.array_equal(pool._observe(frames), preprocess(frames[:, 0], pool.settings.crop))
    pool.close()


def test_a_pools_frame_stack_shifts_by_one_each_step_and_restarts_with_each_game():
    # games truncated after 80 frames (20 agent steps): every game ends at step 19; in
    # Breakout the paddle moves from the first step
    short_game = functools.partial(make_env, "Breakout", max_frames=80, frame_stack=4)
    agent = RecurrentAgent((4, 42, 42), 4, hidden=16, channels=8)
    pool = EnvPool(agent, short_game, n_parallel_games=4, seed=0, env_threads=1, overlap=True)
    rollout = pool.play(26)
    obs = rollout.observations  # [B, T, 4, 42, 42] uint8
    assert obs.shape == (4, 26, 4, 42, 42) and obs.dtype == np.uint8
    assert (rollout.is_not_done[:, 19] == 0).all()
    for t in (0, 20):  # a game's first observation: its first frame, 4 times
        assert (obs[:, t] == obs[:, t, -1:]).all()
    for t in [t for t in range(25) if t != 19]:
        np.testing.assert_array_equal(obs[:, t + 1, :-1], obs[:, t, 1:])
    assert (obs[:, 1:, -1] != obs[:, :-1, -1]).any()  # the newest frames do change
    pool.close()


def test_the_runs_frame_stack_reaches_the_network_the_pool_and_the_evaluation_games():
    from kungfu_rl.config import Config
    from kungfu_rl.runs.loading import build_agent, env_factory

    config = Config(frame_stack=2, hidden=16, channels=8)
    make = env_factory(config)
    shape = make().observation_space.shape
    assert shape == (2, 42, 42)  # what `kungfu eval` and `watch` play, and the network takes
    agent = build_agent(config, shape, 14, torch.device("cpu"))
    assert agent.conv[0].in_channels == 2
    pool = EnvPool(agent, make, 2, seed=0, env_threads=1)
    assert pool.play(3).observations.shape == (2, 3, 2, 42, 42)
    pool.close()


def test_the_runs_frame_size_reaches_the_network_the_pool_and_the_evaluation_games():
    from kungfu_rl.config import Config
    from kungfu_rl.runs.loading import build_agent, env_factory

    config = Config(game="Breakout", frame_size=84, hidden=16, channels=8)
    make = env_factory(config)
    shape = make().observation_space.shape
    assert shape == (1, 84, 84)  # what `kungfu eval` and `watch` play, and the network takes
    agent = build_agent(config, shape, 4, torch.device("cpu"))
    assert agent.conv[0].in_channels == 4  # each 2×2 block of pixels folded into channels
    pool = EnvPool(agent, make, 2, seed=0, env_threads=1)
    assert pool.play(3).observations.shape == (2, 3, 1, 84, 84)
    pool.close()
