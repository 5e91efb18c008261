"""Which suite runs each generated table shows: the 40M table's settings, the defaults'
runs, the default budget's runs, and how much of a 40M run's gain the budget has."""

from __future__ import annotations

from benchmarks.protocol import at_defaults

TABLE_TAG = "long"
"""The tag of the suite's 40M-frame table: `--preset long`."""
FORTY_M = 40_000_000
BUDGET = 10_000_000
"""`make train`'s frames, the default budget."""
ENOUGH = 0.9
"""The share of the 40M run's gain over random play that counts as enough."""
COLUMNS = ("SLM-Lab A2C-GAE", "SLM-Lab PPO", "PPO paper's A2C", "CleanRL PPO-LSTM")
"""The sources whose published figures the suite's tables put beside ours."""
RANDOM = "random play"
"""The published figure the share of the gain is counted from (DQN's table)."""


def table_runs(results: list[dict], tag: str = TABLE_TAG) -> dict[tuple[str, int], dict]:
    """Per (game, frames), the lowest seed's run with the tag `tag`."""
    return {
        (r["game"], r["frames"]): r
        for r in sorted(results, key=lambda r: -r["seed"])
        if r["tag"] == tag
    }


def default_runs(results: list[dict]) -> dict[tuple[str, int], dict]:
    """Per (game, frames), the seed-0 run that learned with the defaults, whatever its tag."""
    return {(r["game"], r["frames"]): r for r in results if at_defaults(r) and r["seed"] == 0}


def best_at_40m(results: list[dict], game: str) -> dict | None:
    """The 40M-frame run of `game` with the highest 20-game mean, whatever its settings
    (None where the game never ran to 40M frames)."""
    at_40m = [r for r in results if r["game"] == game and r["frames"] == FORTY_M]
    return max(at_40m, key=lambda r: r["eval"]["mean"], default=None)


def stopped_at_budget(r: dict) -> bool:
    """Whether the run stopped at the default budget (within its last update's frames)."""
    return abs(r["frames"] - BUDGET) < 0.001 * BUDGET


def budget_runs(results: list[dict]) -> dict[str, list[dict]]:
    """Per game, the seed-0 runs at the defaults whose first 10M frames are `make train`'s
    budget: the 10M runs (more than one where the game ran on two machines, in fp32 and
    bf16, say), else the shortest longer one at a constant learning rate (nothing before
    10M frames then depends on --frames)."""
    runs: dict[str, list[dict]] = {}
    for r in sorted(results, key=lambda r: (r["frames"], r["tag"])):
        if not at_defaults(r) or r["seed"] != 0 or r["frames"] < BUDGET:
            continue
        if stopped_at_budget(r):  # the shortest runs come first
            runs.setdefault(r["game"], []).append(r)
        elif r["game"] not in runs and r["config"].get("lr_schedule") == "constant":
            runs[r["game"]] = [r]
    return runs


def curve_to(r: dict, frames: int) -> list[dict]:
    """The run's training curve up to `frames`."""
    return [p for p in r["curve"] if p["frames"] <= frames]


def share_of_gain(at_budget: float, at_40m: float, random_play: float) -> float | None:
    """How much of the 40M run's gain over random play the budget's figure has."""
    gain = at_40m - random_play
    return (at_budget - random_play) / gain if gain > 0 else None
