"""The checks every reader of a run folder's files shares: whole numbers, finite reals and
tensors within bounds, and a value shown short in a message."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..config.validation import number
from ..config.validation import shown as shown_setting

MAX_COUNT = 10**15
"""Largest update or frame count a checkpoint may hold: far beyond any run, small enough
that the seeds and the progress derived from it stay plain numbers."""


class Damaged(Exception):
    """What is wrong inside a file; the reader adds the file's name."""


def tensor(
    value: Any, what: str, shape: tuple[int, ...] | None = None, bound: float = math.inf
) -> torch.Tensor:
    """`value` if it is a finite floating-point tensor (of `shape`, within ±bound)."""
    if not isinstance(value, torch.Tensor) or value.layout != torch.strided:
        raise Damaged(f"its {what} is not a tensor")
    if not value.is_floating_point():
        raise Damaged(f"its {what} is not floating point ({value.dtype})")
    if shape is not None and tuple(value.shape) != shape:
        raise Damaged(f"its {what} has shape {tuple(value.shape)}, its network settings {shape}")
    if value.numel() and not bool(torch.isfinite(value).all()):
        raise Damaged(f"its {what} is not finite")
    if value.numel() and float(value.abs().max()) > bound:
        raise Damaged(f"its {what} is beyond ±{number(bound)}")
    return value


def whole(value: Any, what: str, high: int, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Damaged(f"its {what} is not a whole number from {low} to {high:,}: {shown(value)}")
    return value


def real(value: Any, what: str, low: float = 0.0, high: float = math.inf) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise Damaged(
            f"its {what} is not a number from {number(low)} to {number(high)}: {shown(value)}"
        )
    return float(value)


def shown(value: Any) -> str:
    """A value read from a damaged file, for a one-line message: a tensor by its dtype, any
    other value as `config.validation.shown` writes it."""
    return f"a tensor {value.dtype}" if isinstance(value, torch.Tensor) else shown_setting(value)
