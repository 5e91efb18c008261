"""Which suite runs the generated tables show: per game, the run of the setting it trains
with at 10M and at 40M frames, the defaults' 10M runs beside them, and every other run by
the network it learned with."""

from __future__ import annotations

from benchmarks.protocol import GAMES, at_defaults

GENERAL_TAG = "atari"
"""The tag of the suite's `--preset atari` runs: the setting of every game but Kung-Fu Master."""
TABLE_TAG = "long"
"""The tag of the suite's `--preset long` runs: Kung-Fu Master's setting at 40M frames."""
KUNGFU = "KungFuMaster"
"""The game that keeps the notebook's agent: the defaults at 10M frames, `--preset long` at 40M."""
TEN_M = 10_000_000
"""`make train`'s frames, the default budget."""
FORTY_M = 40_000_000
PPO_10M = "DreamerV3's PPO"
"""The published figure at 10M frames the 10M table puts beside ours."""
COLUMNS = ("SLM-Lab A2C-GAE", "SLM-Lab PPO", "PPO paper's A2C", "CleanRL PPO-LSTM")
"""The sources whose published figures at 40M frames the 40M table puts beside ours."""
RANDOM = "random play"
STICKY = 0.25
"""The suite's protocol: runs with other sticky actions (the peer checks) are left out."""
NETWORKS = {
    ("notebook", "lstm"): "the notebook's network with its LSTM (the defaults' agent)",
    ("notebook", "gru"): "the notebook's network with a GRU",
    ("notebook", "none"): "the notebook's network without memory",
    ("nature", "lstm"): "the papers' network with an LSTM",
    ("nature", "gru"): "the papers' network with a GRU",
    ("nature", "none"): "the papers' network without memory (`--preset atari`'s)",
}
"""The network families the page groups the other settings' runs by, (network, core)."""


def at_frames(r: dict, frames: int) -> bool:
    """Whether the run stopped at `frames` (within its last update's frames)."""
    return abs(r["frames"] - frames) < 0.001 * frames


def table_runs(results: list[dict], tag: str) -> dict[tuple[str, int], dict]:
    """Per (game, frames), the lowest seed's run with the tag `tag`."""
    return {
        (r["game"], r["frames"]): r
        for r in sorted(results, key=lambda r: -r["seed"])
        if r["tag"] == tag
    }


def defaults_at(results: list[dict], game: str, frames: int) -> list[dict]:
    """The seed-0 runs of `game` that learned with the defaults and stopped at `frames`, one
    per machine where it ran on two (the fp32 one first)."""
    runs = [
        r
        for r in results
        if r["game"] == game and r["seed"] == 0 and at_frames(r, frames) and at_defaults(r)
    ]
    return sorted(runs, key=lambda r: (r["config"].get("precision") != "fp32", r["tag"]))


def setting(game: str, frames: int) -> str:
    """The setting `game` trains with at `frames`, as the tables name it."""
    if game != KUNGFU:
        return f"`--preset {GENERAL_TAG}`"
    return "the defaults" if frames == TEN_M else f"`--preset {TABLE_TAG}`"


def setting_run(results: list[dict], game: str, frames: int) -> dict | None:
    """The lowest seed's run of the setting `game` trains with, stopped at `frames` (TEN_M or
    FORTY_M); None where it has not run yet."""
    if game == KUNGFU and frames == TEN_M:
        runs = defaults_at(results, game, frames)
        return runs[0] if runs else None
    tag = GENERAL_TAG if game != KUNGFU else TABLE_TAG
    found = [r for (g, _), r in table_runs(results, tag).items() if g == game]
    return next((r for r in found if at_frames(r, frames)), None)


def shown_runs(results: list[dict]) -> list[dict]:
    """The runs the two tables show as a game's setting."""
    shown = [setting_run(results, g, f) for g in GAMES for f in (TEN_M, FORTY_M)]
    return [r for r in shown if r is not None]


def network_of(r: dict) -> tuple[str, str]:
    """(network, memory core) of a run, as its config.json records them."""
    config = r["config"]
    return config.get("network", "notebook"), config.get("core", "lstm")


def curve_to(r: dict, frames: int) -> list[dict]:
    """The run's training curve up to `frames`."""
    return [p for p in r["curve"] if p["frames"] <= frames]
