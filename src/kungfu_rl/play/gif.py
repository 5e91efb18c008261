"""Looping GIFs in which every frame lasts as long as every other.

Pillow's GIF writer folds a frame that equals the one before it into that one, adding up
their durations: a game's still opening (Kung-Fu Master's first 4.7 s) would be one
frame held for seconds. Here every frame is written as a frame of its own: the rectangle
that changed, its unchanged pixels transparent (they compress), or, where nothing changed,
one transparent pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image


def frame_delay_ms(fps: float) -> int:
    """A frame's duration as a GIF can hold it: whole hundredths of a second, the nearest to
    1/fps (15 frames/s: 70 ms, 5 % slower than the game), at least 20 ms (browsers show a
    shorter delay as 100 ms)."""
    return 10 * max(2, round(100 / fps))


def write_gif(path: Path, frames: Sequence[np.ndarray], fps: float) -> Path:
    """`frames` ([H, W, 3] uint8 each) as a GIF that loops, each frame shown
    `frame_delay_ms(fps)`; where they hold over 256 colours, the nearest of 256."""
    path = Path(path)
    indices, palette = _indexed(np.stack(frames))  # [N, H, W] uint8, RGB bytes
    # a colour no frame uses, for the pixels a patch leaves as they were (they compress)
    unchanged = len(palette) // 3 if len(palette) < 3 * 256 else None
    if unchanged is not None:
        palette += b"\0\0\0"
    delay = frame_delay_ms(fps)
    with path.open("wb") as f:
        header, _ = GifImagePlugin.getheader(_paletted(indices[0], palette), info={"loop": 0})
        f.writelines(header)
        previous = None
        for frame in indices:
            x0, y0, x1, y1 = _changed(previous, frame)
            patch = frame[y0:y1, x0:x1].copy()  # [h, w]
            extra = {}
            if previous is not None and unchanged is not None:
                patch[patch == previous[y0:y1, x0:x1]] = unchanged
                extra["transparency"] = unchanged
            # disposal 1: each patch stays drawn, the next goes over it
            data = GifImagePlugin.getdata(
                _paletted(patch, palette), (x0, y0), duration=delay, disposal=1, **extra
            )
            f.writelines(data)
            previous = frame
        f.write(b";")  # the GIF's trailer
    return path


def _indexed(stack: np.ndarray) -> tuple[np.ndarray, bytes]:
    """Frames [N, H, W, 3] as indices [N, H, W] into one palette of at most 256 colours."""
    n, h, w, _ = stack.shape
    rgb = stack.astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]  # [N, H, W]
    colours, inverse = np.unique(packed, return_inverse=True)
    if len(colours) <= 256:  # an Atari screen: 128 colours at most, kept exactly
        table = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
        return inverse.reshape(n, h, w).astype(np.uint8), table.astype(np.uint8).tobytes()
    mosaic = Image.fromarray(stack.reshape(n * h, w, 3)).quantize(256, dither=Image.Dither.NONE)
    palette = bytes(mosaic.getpalette()[: 3 * 256])
    return np.asarray(mosaic).reshape(n, h, w), palette


def _paletted(indices: np.ndarray, palette: bytes) -> Image.Image:
    image = Image.fromarray(np.ascontiguousarray(indices), mode="P")
    image.putpalette(palette)
    return image


def _changed(previous: np.ndarray | None, frame: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of what differs from `previous`: all of the first frame, one pixel
    of a frame that repeats the one before it."""
    if previous is None:
        return 0, 0, frame.shape[1], frame.shape[0]
    differs = previous != frame  # [H, W]
    rows, cols = np.flatnonzero(differs.any(axis=1)), np.flatnonzero(differs.any(axis=0))
    if not len(rows):
        return 0, 0, 1, 1
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
