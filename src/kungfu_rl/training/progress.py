"""What training says while it runs: a progress bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

from ..runs.metrics import frames_per_second


def fmt_frames(frames: float) -> str:
    return f"{frames / 1e6:.2f}M" if frames >= 1e6 else f"{frames / 1e3:.0f}k"


class Progress:
    """Frames trained out of the budget, the recent training games' score, the last
    evaluation. A bar when `bar` (a terminal), else a plain line every `every_s` seconds.

    frames/s here and everywhere (the `time/fps` column, the last line, the report) is one
    figure: emulator frames per second of wall clock, evaluations and checkpoints included.
    """

    def __init__(
        self,
        total: int,
        initial: int,
        bar: bool | None = None,
        enabled: bool = True,
        every_s: float = 30.0,
        stream: TextIO | None = None,
    ):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.total, self.frames = total, min(initial, total)
        self.bar_mode = self.stream.isatty() if bar is None else bar
        self.every_s = every_s
        self.fields: dict[str, str] = {}
        self._t0, self._frames0 = time.perf_counter(), self.frames
        self._last_line = self._t0
        self._bar = None
        if enabled and self.bar_mode:
            self._bar = tqdm(
                total=total,
                initial=self.frames,
                unit="frame",
                unit_scale=True,
                dynamic_ncols=True,
                file=self.stream,
                # tqdm's own smoothed rate left out: the bar shows the package's frames/s
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]",
            )

    def update(self, frames: int, **fields: str) -> None:
        """Training has reached `frames`; `fields` (score, entropy, ...) shown beside it."""
        frames = min(frames, self.total)
        self.fields.update(fields)
        if self._bar is not None:
            self._bar.update(frames - self.frames)
            shown = {"frames/s": f"{self.rate():,.0f}", **self.fields}
            self._bar.set_postfix(shown, refresh=False)
        self.frames = frames
        now = time.perf_counter()
        if self._bar is None and self.enabled and now - self._last_line >= self.every_s:
            self._last_line = now
            self._line()

    def rate(self) -> float:
        """frames/s of this session so far."""
        return frames_per_second(self.frames - self._frames0, time.perf_counter() - self._t0)

    def _line(self) -> None:
        rate = self.rate()
        left = (self.total - self.frames) / rate if rate > 0 else float("nan")
        extra = "".join(f", {k} {v}" for k, v in self.fields.items())
        eta = f", {left / 60:.0f} min left" if left == left else ""
        self.say(
            f"{fmt_frames(self.frames)} of {fmt_frames(self.total)} frames "
            f"({self.frames / self.total:.0%}), {rate:,.0f} frames/s{eta}{extra}"
        )

    def say(self, message: str) -> None:
        """One line of news (an evaluation starting, its score), above the bar if any."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
