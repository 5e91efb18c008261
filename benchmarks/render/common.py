"""What the renderers share: reading the result JSONs and the published figures, writing
numbers as the pages write them, and replacing a generated block between its two markers."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.protocol import PUBLISHED, SUITE_RESULTS


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def suite_results(results: Path = SUITE_RESULTS) -> list[dict]:
    """Every suite JSON (benchmarks/suite.py), in file-name order."""
    return [load(p) for p in sorted(results.glob("*.json"))]


def published(path: Path = PUBLISHED) -> list[dict]:
    """The published figures, one per source and game (benchmarks/published_baselines.json)."""
    return load(path)["figures"]


def figure(figures: list[dict], name: str, game: str) -> dict | None:
    """The figure `name` published for `game`, or None where that source gives none."""
    found = [f for f in figures if f["name"] == name and f["game"] == game]
    if len(found) > 1:
        raise ValueError(f"{name} on {game} twice in {PUBLISHED.name}")
    return found[0] if found else None


def value(figures: list[dict], name: str, game: str) -> float | None:
    """The value of the figure `name` published for `game`, or None."""
    f = figure(figures, name, game)
    return None if f is None else f["value"]


def fmt(x: float | None) -> str:
    """One decimal, dropped from whole numbers of 100 and more: 17.0, 326.5, 1,775."""
    if x is None:
        return "–"
    text = f"{x:,.1f}"
    return text.removesuffix(".0") if abs(x) >= 100 else text


def score_cell(r: dict) -> str:
    """A suite run's figures as every table writes them: its 20-game mean and, in brackets,
    the mean of its last 100 training games."""
    return f"{fmt(r['eval']['mean'])} ({fmt(r['last_100_training_mean'])})"


def millions(frames: float | None) -> str:
    """Frames as people write them, to three figures: 10M for a 10,001,920-frame run, 2.5M."""
    if frames is None:
        return "–"
    return f"{float(f'{frames / 1e6:.3g}'):g}M"


def minutes(seconds: float) -> str:
    """A wall time: 12 min 34 s."""
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def replace_between(text: str, begin: str, end: str, block: str) -> str:
    """`text` with what lies between the marker lines `begin` and `end` replaced by `block`."""
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + block + "\n" + text[stop:]
