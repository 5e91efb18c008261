"""docs/suite.md's section on the standard Atari set-up, choice by choice: each choice of
`--preset atari` turned off or changed on several games, its training score beside the
preset's own 10M run at the same frames (that run's curve; the preset's learning rate
falls over 40M frames whatever the budget, so at those frames it learned as a shorter run
would)."""

from __future__ import annotations

from benchmarks.render.common import fmt, millions
from benchmarks.render.suite_runs import (
    GENERAL_TAG,
    TEN_M,
    at_frames,
    curve_to,
    setting_run,
    table_runs,
)

CHOICE_FRAMES = 3_000_000
"""The frames each choice's runs train for."""
CHOICE_GAMES = ("Breakout", "Qbert", "SpaceInvaders", "Seaquest")
"""The games each choice is measured on: each has FIRE, lives and a score bar in its frame."""
CHOICES: dict[str, tuple[str, str]] = {
    f"{GENERAL_TAG}-no-press-fire": ("--no-press-fire", "no FIRE after a start or a lost life"),
    f"{GENERAL_TAG}-no-cut-at-life-loss": (
        "--no-cut-at-life-loss",
        "a lost life leaves the value target whole",
    ),
    f"{GENERAL_TAG}-crop-scoreless": (
        "--crop scoreless",
        "the screen less its score bar (`envs.games.SCORELESS_CROPS`) in place of the whole",
    ),
    f"{GENERAL_TAG}-epochs1": (
        "--epochs 1",
        "4 gradient steps per 8 × 128-step rollout in place of 16 (one pass, not four)",
    ),
    f"{GENERAL_TAG}-minibatches8": (
        "--minibatches 8",
        "32 gradient steps per rollout in place of 16 (minibatches of 128 steps, not 256)",
    ),
    f"{GENERAL_TAG}-lr5e-4": (
        "--lr 5e-4",
        "Adam's rate from 5e-4 in place of 2.5e-4, falling to 0 over 40M frames as the preset's",
    ),
    f"{GENERAL_TAG}-decay-over-run": (
        "--lr-decay-frames 0",
        "the rate falls to 0 at the run's own last frame (here 3M) in place of at 40M",
    ),
}
"""Per tag: the flags over `--preset atari` its runs train with, and what they change."""
TAKEN_AT = 3
"""A choice is taken into the preset where it is ahead on at least this many of CHOICE_GAMES:
one seed a game, so one game's lead may be luck."""
STEP = 100_000
"""The widest gap allowed between a choice's frames and the preset run's curve point (the
curve keeps about 200 points of a run)."""


def choice_command(tag: str) -> str:
    """The command that trains and scores a choice's runs on every game it is measured on."""
    flags = CHOICES[tag][0]
    return (
        f"python benchmarks/suite.py --tag {tag} --games {' '.join(CHOICE_GAMES)} "
        f"--frames {CHOICE_FRAMES} -- --preset {GENERAL_TAG} {flags} "
        "--torch-threads 1 --env-threads 1"
    )


def preset_at(results: list[dict], game: str, frames: int) -> float | None:
    """The mean of the last 100 training games of the preset's 10M run of `game` at
    `frames`; None where that run is missing or its curve has no point within STEP."""
    r = setting_run(results, game, TEN_M)
    curve = curve_to(r, frames) if r else []
    if not curve or frames - curve[-1]["frames"] > STEP:
        return None
    return curve[-1]["mean"]


def choice_run(results: list[dict], tag: str, game: str) -> dict | None:
    """The lowest seed's run of the choice `tag` on `game`, at CHOICE_FRAMES."""
    found = [r for (g, _), r in table_runs(results, tag).items() if g == game]
    return next((r for r in found if at_frames(r, CHOICE_FRAMES)), None)


def _cell(run: dict | None, preset: float | None) -> tuple[str, bool | None]:
    """A choice's cell, 'its score against the preset's', and whether it beat the preset
    (None where either is missing)."""
    if run is None:
        return "not run yet", None
    mine = run["last_100_training_mean"]
    if preset is None:
        return f"{fmt(mine)} against –", None
    return f"{fmt(mine)} against {fmt(preset)}", mine > preset


def verdict(won: list[bool]) -> str:
    """The last column for a choice ahead of the preset on the games in `won` (one flag per
    game measured): 'N of M', with ': taken' or ': not taken' once the rest of CHOICE_GAMES
    can no longer change that ('–' where none is measured)."""
    if not won:
        return "–"
    ahead, left = sum(won), len(CHOICE_GAMES) - len(won)
    counted = f"{ahead} of {len(won)}"
    if ahead >= TAKEN_AT:
        return f"{counted}: taken"
    if ahead + left < TAKEN_AT:
        return f"{counted}: not taken"
    return counted


def section(results: list[dict]) -> list[str]:
    """The section's lines: a row per choice, a column per game, each cell the choice's
    training score against the preset's, and how many games the choice won."""
    lines = [
        "",
        "## The Atari set-up, choice by choice",
        "",
        f"Each choice of `--preset {GENERAL_TAG}` turned off or changed, on "
        f"{len(CHOICE_GAMES)} games for {millions(CHOICE_FRAMES)} frames, one seed: the mean "
        "of its last 100 training games against that of the preset's 10M run at the same "
        "frames (the preset's rate falls over 40M frames whatever the budget, so at those "
        "frames its 10M run has learned as a shorter run would). The preset takes a choice "
        f"that is ahead on at least {TAKEN_AT} of the {len(CHOICE_GAMES)} games.",
        "",
        "| choice | " + " | ".join(CHOICE_GAMES) + " | ahead of the preset |",
        "| --- | " + " | ".join("---:" for _ in CHOICE_GAMES) + " | ---: |",
    ]
    preset = {g: preset_at(results, g, CHOICE_FRAMES) for g in CHOICE_GAMES}
    for tag, (flags, what) in CHOICES.items():
        cells = [_cell(choice_run(results, tag, g), preset[g]) for g in CHOICE_GAMES]
        won = [w for _, w in cells if w is not None]
        lines.append(
            f"| `{flags}`: {what} | " + " | ".join(c for c, _ in cells) + f" | {verdict(won)} |"
        )
    lines += ["", "Commands:", "", *(f"- `{choice_command(tag)}`" for tag in CHOICES)]
    return lines
