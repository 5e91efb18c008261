"""make_env and the observation preprocessing."""

import itertools

import cv2
import numpy as np
import pytest

from kungfu_rl.envs.atari import make_env
from kungfu_rl.envs.games import (
    GAME_CROPS,
    SCORELESS_CROPS,
    UnknownGameError,
    game_names,
    resolve_game,
)
from kungfu_rl.envs.preprocessing import preprocess, push_frames


def test_kungfu_env_matches_the_notebook():
    env = make_env()
    assert env.observation_space.shape == (1, 42, 42)
    assert env.action_space.n == 14
    assert env.settings.repeat_action_probability == 0.25
    assert env.settings.frameskip == 4
    obs, _ = env.reset(seed=0)
    for _ in range(50):
        obs, *_ = env.step(env.action_space.sample())
    assert obs.shape == (1, 42, 42)
    assert obs.dtype == np.float32
    assert obs.min() >= 0.0 and obs.max() <= 1.0
    assert obs.std() > 0  # a real picture, not a blank
    assert env.rgb_frame().shape == (210, 160, 3)
    env.close()


def test_crop_is_the_notebooks():
    # Rows 60:-30 and columns 15: of the 210×160 frame are kept: paint everything outside
    # that window white and inside black, and the observation must be all black.
    frame = np.full((210, 160), 255, dtype=np.uint8)
    frame[60:180, 15:] = 0
    assert GAME_CROPS["KungFuMaster"] == (slice(60, -30), slice(15, None))
    assert preprocess(frame, GAME_CROPS["KungFuMaster"]).max() == 0
    # and one row or column more on any side would show up
    for rows, cols in [(59, slice(15, None)), (180, slice(15, None)), (slice(60, 180), 14)]:
        edge = frame.copy()
        edge[rows, cols] = 255
        assert preprocess(edge, GAME_CROPS["KungFuMaster"]).max() == 0
    inside = frame.copy()
    inside[60, 15:] = 255
    inside[179, 15:] = 255
    inside[60:180, 15] = 255
    inside[60:180, 159] = 255
    out = preprocess(inside, GAME_CROPS["KungFuMaster"])[0]
    assert out[0].min() > 0 and out[-1].min() > 0 and out[:, 0].min() > 0 and out[:, -1].min() > 0


def test_preprocess_batches_and_keeps_uint8():
    frames = np.random.default_rng(0).integers(0, 256, (3, 5, 210, 160), dtype=np.uint8)
    out = preprocess(frames, GAME_CROPS["KungFuMaster"])
    assert out.shape == (3, 5, 1, 42, 42) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[1, 2], preprocess(frames[1, 2], GAME_CROPS["KungFuMaster"]))


@pytest.mark.parametrize("n, size", [(1, 42), (32, 42), (32, 84)])
def test_a_frame_comes_out_the_same_in_any_batch(n, size):
    # a batch of frames against one cv2 call per frame, the crop written out by hand
    crop = GAME_CROPS["KungFuMaster"]
    frames = np.random.default_rng(n).integers(0, 256, (n, 210, 160), dtype=np.uint8)
    one_by_one = np.stack(
        [cv2.resize(f[crop], (size, size), interpolation=cv2.INTER_AREA)[None] for f in frames]
    )
    np.testing.assert_array_equal(preprocess(frames, crop, "area", size), one_by_one)


def _max_by_hand(frame: np.ndarray, size: int = 42) -> np.ndarray:
    """[h, w] -> [size, size], each cell the max over its floored bounds, one at a time."""
    h, w = frame.shape
    out = np.zeros((size, size), dtype=frame.dtype)
    for i in range(size):
        for j in range(size):
            cell = frame[i * h // size : (i + 1) * h // size, j * w // size : (j + 1) * w // size]
            out[i, j] = cell.max()
    return out


@pytest.mark.parametrize(
    "game, size",
    [(g, 42) for g in ("KungFuMaster", "Pong", "Breakout", "Seaquest")] + [("Breakout", 84)],
)
def test_max_resize_takes_each_cells_brightest_pixel(game, size):
    crop = GAME_CROPS.get(game, (slice(None), slice(None)))
    frames = np.random.default_rng(1).integers(0, 200, (2, 210, 160), dtype=np.uint8)
    out = preprocess(frames, crop, "max", size)
    assert out.shape == (2, 1, size, size) and out.dtype == np.uint8
    for frame, got in zip(frames, out, strict=True):
        np.testing.assert_array_equal(got[0], _max_by_hand(frame[crop], size))


def test_an_84_frame_keeps_most_of_a_small_balls_brightness_where_42_loses_it():
    crop = GAME_CROPS["Breakout"]  # 164×144: cells of about 3.9×3.4 pixels at 42, half at 84
    for row, col in [(100, 30), (121, 77), (150, 101)]:
        frame = np.zeros((210, 160), dtype=np.uint8)
        frame[row : row + 4, col : col + 2] = 200  # a 2×4-pixel ball on black
        small = preprocess(frame, crop, "area", 42)[0].max()
        large = preprocess(frame, crop, "area", 84)[0].max()
        assert small < 0.5 * 200 < 0.7 * 200 < large


def test_max_resize_keeps_a_small_ball_at_full_brightness_where_area_dims_it():
    crop = GAME_CROPS["Pong"]  # 160×160: cells of about 3.8 pixels
    for row, col in [(40, 0), (100, 77), (190, 158)]:  # the crop's first column, the last row
        frame = np.full((210, 160), 87, dtype=np.uint8)  # Pong's background
        frame[row : row + 4, col : col + 2] = 236  # a 2×4-pixel ball
        bright = preprocess(frame, crop, "max")[0]
        assert bright.max() == 236 and 1 <= (bright == 236).sum() <= 4
        assert preprocess(frame, crop, "area").max() < 87 + 0.6 * (236 - 87)
    with pytest.raises(ValueError, match="resize must be one of"):
        preprocess(frame, crop, "bilinear")


def test_push_frames_drops_the_oldest_and_restarts_a_new_game_whole():
    stack = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2)  # [N, k, H, W]
    before = stack.copy()
    frames = np.full((2, 1, 2, 2), 200, dtype=np.uint8)
    push_frames(stack, frames, np.array([False, True]))
    np.testing.assert_array_equal(stack[0, :2], before[0, 1:])  # shifted by one
    assert (stack[0, 2] == 200).all()  # the newest last
    assert (stack[1] == 200).all()  # a new game sees no frame of the one before


def test_the_single_game_env_stacks_its_last_frames_and_restarts_them():
    # Breakout's paddle moves from the first step; games cut after 10 steps (40 frames)
    stacked = make_env("Breakout", repeat_action_probability=0.0, frame_stack=3, max_frames=40)
    plain = make_env("Breakout", repeat_action_probability=0.0, max_frames=40)  # one frame
    assert stacked.observation_space.shape == (3, 42, 42)
    for _ in range(2):  # the second game starts from a stack of its own first frame
        obs, _ = stacked.reset(seed=0)
        one, _ = plain.reset(seed=0)
        seen = [one[0]] * 3
        np.testing.assert_array_equal(obs, np.stack(seen))
        ended, step = False, 0
        while not ended:
            action = 2 + step % 2 * (step > 3)  # right, then right and left by turns
            obs, _, terminated, truncated, _ = stacked.step(action)
            one, _, *_ = plain.step(action)
            seen.append(one[0])
            np.testing.assert_array_equal(obs, np.stack(seen[-3:]))
            ended, step = terminated or truncated, step + 1
        assert step == 10 and len({f.tobytes() for f in seen}) > 2  # frames did change


@pytest.mark.parametrize(
    "name", ["KungFuMaster", "kung_fu_master", "kungfumaster", "ALE/KungFuMaster-v5"]
)
def test_game_names_resolve(name):
    assert resolve_game(name) == "KungFuMaster"


def test_unknown_game_lists_closest_names():
    with pytest.raises(UnknownGameError, match="KungFuMaster") as err:
        resolve_game("KungFuMastr")
    assert "\n" not in str(err.value)


def test_other_games_by_name_without_crop():
    assert "Breakout" in game_names() and len(game_names()) > 50
    env = make_env("Breakout")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (1, 42, 42)
    assert env.action_space.n == 4
    env.close()


@pytest.mark.parametrize(
    "game, crops",
    [("Pong", GAME_CROPS), ("Breakout", GAME_CROPS)]
    + [(g, SCORELESS_CROPS) for g in ("Qbert", "SpaceInvaders", "BeamRider", "Seaquest")],
)
def test_a_play_area_crop_drops_the_score_and_keeps_the_play(game, crops):
    """Real frames, random play up to the first point: the score (the topmost band of rows
    that change with the point) lies above the crop, and what moved below it (ball,
    paddles, ships, oxygen) moved inside the crop. Q*bert's score shares its rows with
    the play above the pyramid, so its crop keeps every row and only the play is checked."""
    import gymnasium as gym

    rows, cols = crops[game]
    env = gym.make(f"ALE/{game}-v5", obs_type="grayscale", repeat_action_probability=0.0)
    for seed in range(5):  # the first game of random play that scores a point
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        frames, scored = [], None
        for t in range(3000):
            action = int(rng.integers(env.action_space.n))
            frame, reward, terminated, truncated, _ = env.step(action)
            frames.append(frame)
            if reward != 0 and scored is None:
                scored = t
            if terminated or truncated or (scored is not None and t > scored + 10):
                break
        if scored is not None and len(frames) > scored + 10:
            break
    env.close()
    assert scored is not None, "no point was scored in five games: the test needs one"
    moving = np.abs(np.diff(np.stack(frames[:scored]).astype(int), axis=0)).sum(axis=0) > 0
    if game != "Qbert":
        changed = np.flatnonzero((frames[scored - 1] != frames[scored + 10]).any(axis=1))
        # the score: the topmost band of rows that changed with the point, at the frame's top
        band_end = next((a for a, b in itertools.pairwise(changed) if b > a + 1), changed[-1])
        assert changed[0] < 21, f"no score at the frame's top (first change at row {changed[0]})"
        assert rows.start > band_end, f"the crop keeps score rows {changed[0]}–{band_end}"
        moving[: rows.start] = False  # the score bar: left out on purpose
    else:
        assert rows == slice(None)
    inside = np.zeros_like(moving)
    inside[rows, cols] = True
    assert moving[inside].any()
    assert (moving & ~inside).sum() <= 0.02 * moving[inside].sum(), "play outside the crop"
