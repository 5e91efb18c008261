"""Ctrl-C and SIGTERM as a request to stop training cleanly, after the current update."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class StopOnSignals:
    """Turns Ctrl-C and SIGTERM into a request to stop after the current update.

    While `urgent` is set (during an evaluation, which can take minutes) or at a second
    signal, the signal raises KeyboardInterrupt at once instead.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self.urgent = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        first = self.signum is None
        self.signum = signum
        if self.urgent or not first:
            raise KeyboardInterrupt

    def __enter__(self) -> StopOnSignals:
        if threading_is_main():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def threading_is_main() -> bool:
    return threading.current_thread() is threading.main_thread()
