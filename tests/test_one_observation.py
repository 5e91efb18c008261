"""The agent is evaluated on exactly what it was trained on: one preprocessing, one grayscale."""

import numpy as np
import pytest
import torch

from kungfu_rl.agent import _as_float_obs
from kungfu_rl.config import RESIZES
from kungfu_rl.envs import GameSettings, make_env, preprocess, push_frames
from kungfu_rl.pool import atari_vector_env


@pytest.mark.parametrize(
    "resize, stack, size", [(r, 1, 42) for r in RESIZES] + [("area", 4, 42), ("area", 1, 84)]
)
def test_single_game_env_and_pool_see_the_same_observation(resize, stack, size):
    # No sticky actions, so both emulators follow the same actions frame for frame.
    how = dict(resize=resize, frame_stack=stack, frame_size=size)
    settings = GameSettings(repeat_action_probability=0.0, **how)
    single = make_env(repeat_action_probability=0.0, **how)
    vector = atari_vector_env(settings, n_games=1, threads=1)
    obs_single, _ = single.reset(seed=0)
    frames, _ = vector.reset(seed=0)
    rng = np.random.default_rng(0)
    compared = 0
    for _ in range(200):
        newest = preprocess(frames[:, 0], settings.crop, resize, size)  # [1, 1, S, S]
        if compared == 0:  # what EnvPool hands the agent: its stack of the game's frames
            obs_pool = np.repeat(newest, stack, axis=1)
        else:
            push_frames(obs_pool, newest, np.array([False]))
        np.testing.assert_array_equal(obs_pool[0].astype(np.float32) / 255.0, obs_single)
        # the agent turns the pool's uint8 into the very floats the single env gives
        torch.testing.assert_close(
            _as_float_obs(torch.from_numpy(obs_pool[0])),
            torch.from_numpy(obs_single),
            rtol=0,
            atol=0,
        )
        compared += 1
        action = int(rng.integers(14))
        obs_single, _, terminated, truncated, _ = single.step(action)
        frames, *_ = vector.step(np.array([action]))
        assert not (terminated or truncated)
    assert compared == 200
    single.close()
    vector.close()
