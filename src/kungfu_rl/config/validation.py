"""Checking a setting against the table: its type, then its bounds or choices, one line per
mistake (`ConfigError`), worded for the command line."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .choices import FRAME_SIZES, MAX_NAME_BYTES


class ConfigError(ValueError):
    """A setting a user gave that cannot work; the message is one line for the command line."""


@dataclass(frozen=True)
class Spec:
    """What the table says of one setting, besides its type and default."""

    help: str
    group: str
    low: float | None = None
    """Smallest allowed value (inclusive unless `low_open`)."""
    high: float | None = None
    """Largest allowed value (inclusive)."""
    low_open: bool = False
    choices: tuple[str, ...] = ()
    resumable: bool = False
    """Whether `kungfu train --resume` may change it; the others define the run."""

    def describe_bounds(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        low = "" if self.low is None else f"{'>' if self.low_open else '>='} {number(self.low)}"
        high = "" if self.high is None else f"<= {number(self.high)}"
        return " and ".join(x for x in (low, high) if x)


def number(x: float) -> str:
    """`x` as people write it, and as a flag takes it: 2147483647, 10000, 1e15, 0.99, 1e-8
    (whole numbers in full but for a digit and six or more zeros; never 2.14748e+09)."""
    if isinstance(x, int) or (abs(x) < 1e16 and x.is_integer()):
        if abs(int(x)).bit_length() > 10_000:  # past what str() of an int may give
            return f"{'-' if x < 0 else ''}a number of over 3,000 digits"
        digits = str(abs(int(x)))
        zeros = len(digits) - len(digits.rstrip("0"))
        if zeros >= 6 and len(digits) == zeros + 1:
            return f"{'-' if x < 0 else ''}{digits[0]}e{zeros}"
        return str(int(x))
    mantissa, _, exponent = repr(float(x)).partition("e")
    return mantissa + (f"e{int(exponent)}" if exponent else "")


def setting(default: Any, help: str, group: str, **spec: Any) -> Any:
    """A Config field: its default and its Spec (help, group, bounds, choices, resumable)."""
    return field(default=default, metadata={"spec": Spec(help, group, **spec)})


def spec_of(f: dataclasses.Field) -> Spec:
    return f.metadata["spec"]


def flag(name: str) -> str:
    """A setting's command-line flag: gae_lambda -> --gae-lambda."""
    return "--" + name.replace("_", "-")


def checked(f: dataclasses.Field, value: Any) -> Any:
    """`value` for setting `f` if its type and the table's bounds allow it, else ConfigError."""
    spec, kind = spec_of(f), str(f.type)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{flag(f.name)} must be true or false, got {shown(value)}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{flag(f.name)} must be text, got {shown(value)}")
        if spec.choices and value not in spec.choices:
            raise ConfigError(
                f"{flag(f.name)} must be {spec.describe_bounds()}, got {shown(value)}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{flag(f.name)} must be a number, got {shown(value)}")
    if kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(f"{flag(f.name)} must be a whole number, got {shown(value)}")
        value = int(value)
    else:
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float
            value = math.inf
        if not math.isfinite(value):
            raise ConfigError(f"{flag(f.name)} must be a finite number, got {shown(value)}")
    too_low = spec.low is not None and (value <= spec.low if spec.low_open else value < spec.low)
    too_high = spec.high is not None and value > spec.high
    if too_low or too_high:
        raise ConfigError(f"{flag(f.name)} must be {spec.describe_bounds()}, got {shown(value)}")
    return value


def shown(value: Any) -> str:
    """`value` for a one-line message: its repr (a number as `number` writes it), cut to 60
    characters."""
    plain = isinstance(value, int | float) and not isinstance(value, bool)
    text = number(value) if plain else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_together(config: Any) -> None:
    """The checks of a `Config` that look past one setting: the game is named, the frame is
    a size the network takes, the budget holds one update, the run's name is a folder name."""
    if not config.game.strip():
        raise ConfigError("--game must name a game (see `kungfu games`)")
    if config.frame_size not in FRAME_SIZES:
        sizes = " or ".join(str(s) for s in FRAME_SIZES)
        raise ConfigError(f"--frame-size must be {sizes}, got {config.frame_size}")
    if config.frames < config.frames_per_update:
        raise ConfigError(
            f"--frames {config.frames:,} is less than one update "
            f"(--n-games × --rollout-len × --frameskip = {config.frames_per_update:,})"
        )
    if config.minibatch_steps and config.core != "none":
        raise ConfigError("--minibatch-steps needs --core none: a memory replays whole games")
    name = config.run_name
    if "/" in name or "\\" in name or name in (".", "..") or not name.isprintable():
        raise ConfigError(f"--run-name must be a plain folder name, got {shown(name)}")
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > MAX_NAME_BYTES:
        raise ConfigError(
            f"--run-name is {size} bytes long; a folder name holds at most {MAX_NAME_BYTES}"
        )
