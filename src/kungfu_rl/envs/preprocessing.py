"""The one observation preprocessing: crop, resize, stack.

Every observation the agent ever sees, in the training pool and in evaluation, goes through
`preprocess`: crop the game's play area, resize the ALE grayscale frame to 42×42 (or 84×84:
`--frame-size`) with INTER_AREA or the brightest pixel of each cell (`--resize`), keep uint8.
The single-game env divides by 255 to give the notebook's float32 in [0, 1]; the pool keeps
uint8 and the agent divides at its first layer, which gives the same float32 values bit for
bit (and then, with `input_norm="frame"`, the default, standardises each frame inside the
network, whichever way the frame came).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..config import FRAME_SIZES, RESIZES

OBS_SIZE = FRAME_SIZES[0]  # 42
"""Side of the square observation, as in the notebook (`--frame-size`'s default)."""


def preprocess(
    frames: np.ndarray, crop: tuple[slice, slice], resize: str = "area", size: int = OBS_SIZE
) -> np.ndarray:
    """Crop and resize ALE grayscale frames: each of the size×size cells the mean of the
    pixels it covers (`resize="area"`, cv2's INTER_AREA) or the brightest of them (`"max"`).

    frames: uint8 [..., 210, 160] -> uint8 [..., 1, size, size] (42 by default).
    """
    lead = frames.shape[:-2]
    flat = frames.reshape(-1, *frames.shape[-2:])[:, crop[0], crop[1]]  # [N, h, w]
    if resize == "max":
        return _max_resize(flat, size).reshape(*lead, 1, size, size)
    if resize != "area":
        raise ValueError(f"resize must be one of {RESIZES}, got {resize!r}")
    out = np.empty((flat.shape[0], 1, size, size), dtype=np.uint8)
    for i, frame in enumerate(flat):
        out[i, 0] = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
    return out.reshape(*lead, 1, size, size)


def _max_resize(flat: np.ndarray, size: int = OBS_SIZE) -> np.ndarray:
    """uint8 [N, h, w] (h, w >= size) -> [N, size, size]: cell (i, j) is the maximum over
    rows [i·h/size, (i+1)·h/size) and columns [j·w/size, (j+1)·w/size), floored; every
    pixel falls in exactly one cell."""
    h, w = flat.shape[1:]
    if h < size or w < size:
        raise ValueError(f"a {h}×{w} crop is smaller than the {size}×{size} observation")
    rows = np.arange(size) * h // size  # first row of each cell
    cols = np.arange(size) * w // size
    return np.maximum.reduceat(np.maximum.reduceat(flat, rows, axis=1), cols, axis=2)


def push_frames(stack: np.ndarray, frames: np.ndarray, restart: np.ndarray) -> None:
    """Add the newest frame to each game's stack in place, dropping its oldest.

    stack uint8 [N, k, H, W], oldest frame first; frames [N, 1, H, W]; restart bool [N]:
    games whose `frames` start a new game, whose whole stack becomes that frame (no frame of
    the game before is seen).
    """
    stack[:, :-1] = stack[:, 1:]
    stack[:, -1] = frames[:, 0]
    stack[restart] = frames[restart]  # [n, 1, H, W] broadcast over the k frames
