"""The agent is evaluated on exactly what it was trained on: one preprocessing, one grayscale."""

import numpy as np
import pytest
import torch

from kungfu_rl.agent.networks import _as_float_obs
from kungfu_rl.config import RESIZES
from kungfu_rl.envs.atari import make_env
from kungfu_rl.envs.games import GameSettings
from kungfu_rl.envs.preprocessing import preprocess, push_frames
from kungfu_rl.envs.vector import atari_vector_env


@pytest.mark.parametrize(
    "resize, stack, size, max_pool, game",
    [(r, 1, 42, False, "KungFuMaster") for r in RESIZES]
    + [("area", 4, 42, False, "KungFuMaster"), ("area", 1, 84, False, "KungFuMaster")]
    + [("area", 1, 84, True, "SpaceInvaders"), ("max", 4, 42, True, "KungFuMaster")],
)
def test_single_game_env_and_pool_see_the_same_observation(resize, stack, size, max_pool, game):
    # No sticky actions, so both emulators follow the same actions frame for frame.
    how = dict(resize=resize, frame_stack=stack, frame_size=size, max_pool=max_pool)
    settings = GameSettings(game=game, repeat_action_probability=0.0, **how)
    single = make_env(game, repeat_action_probability=0.0, **how)
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
        action = int(rng.integers(single.action_space.n))
        obs_single, _, terminated, truncated, _ = single.step(action)
        frames, *_ = vector.step(np.array([action]))
        assert not (terminated or truncated)
    assert compared == 200
    single.close()
    vector.close()


def test_max_pool_shows_space_invaders_shots_that_every_fourth_frame_hides():
    """Space Invaders draws its shots every other frame, and frameskip 4 always lands on the
    same one: without the max-pool the agent never sees them."""
    lit = {}
    for max_pool in (False, True):
        settings = GameSettings("SpaceInvaders", repeat_action_probability=0.0, max_pool=max_pool)
        vector = atari_vector_env(settings, n_games=1, threads=1)
        vector.reset(seed=0)
        rng = np.random.default_rng(0)
        frames = []
        for _ in range(150):
            obs, *_ = vector.step(rng.integers(6, size=1))
            frames.append(obs[0, 0].astype(np.int16))  # [210, 160]
        vector.close()
        lit[max_pool] = np.array(frames)
    extra = lit[True] - lit[False]  # >= 0: the pool is the brighter of the two frames
    assert (extra >= 0).all()
    shown_only_pooled = (extra > 50).sum(axis=(1, 2))  # [150]: pixels per step
    assert (shown_only_pooled > 0).mean() > 0.5  # most steps have a shot the last frame lacks


def test_qbert_cube_top_that_changed_stands_out_only_as_each_cells_brightest_pixel():
    """Q*bert's goal, a cube top turned from blue (gray 85) to yellow (193), is a band of
    a few rows: the 42×42 mean (`resize="area"`) blends it with the cube below, the
    brightest pixel (`"max"`) keeps it brighter than the rest of the pyramid
    (lab-log/2026-11-23_2026-12-03_tuning.md, "Each cell's brightest pixel")."""
    env = make_env("Qbert", repeat_action_probability=0.0)
    env.reset(seed=0)
    ale = env.unwrapped.ale
    before = ale.getScreenGrayscale().copy()  # uint8 [210, 160]
    rng = np.random.default_rng(1)
    for _ in range(60):
        env.step(int(rng.integers(env.action_space.n)))
    after = ale.getScreenGrayscale().copy()
    env.close()
    turned = (before == 85) & (after == 193)  # the top Q*bert landed on
    assert 30 < turned.sum() < 100
    game = GameSettings("Qbert")  # no crop: the whole 210×160 frame shrinks to S×S
    size = game.frame_size
    rows, cols = np.nonzero(turned)
    cells = (
        slice(rows.min() * size // 210, rows.max() * size // 210 + 1),
        slice(cols.min() * size // 160, cols.max() * size // 160 + 1),
    )
    brightest = preprocess(after, game.crop, "max", size)[0]  # [S, S]
    assert (brightest[cells] == 193).any()
    assert brightest[brightest != 193].max() <= 151  # the cube sides: nothing else as bright
    mean = preprocess(after, game.crop, "area", size)[0]
    others = mean.copy()
    others[cells] = 0
    assert mean[cells].max() < others.max()  # some cube side's cell is brighter than it
