"""docs/suite.md and its curves, from the suite's JSONs and the published figures alone.

    python benchmarks/render/suite_page.py            # print the page
    python benchmarks/render/suite_page.py --write    # write docs/suite.md and its PNG

The runs are `benchmarks/results/suite/*.json` (written by `benchmarks/suite.py`); the
published figures, each with its source and protocol, `benchmarks/published_baselines.json`.
The 40M table shows the runs of `--tag long` (`--preset long`); the 10M section the runs at
the defaults, `make train`'s settings; "Every run" each run with its command. A test checks
that docs/suite.md is the page this builds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.protocol import (
    GAMES,
    ROOT,
    at_defaults,
    flags_over_defaults,
    settings_of,
)
from benchmarks.render.common import fmt, millions, minutes, published, suite_results, value
from benchmarks.render.suite_runs import (
    BUDGET,
    COLUMNS,
    ENOUGH,
    FORTY_M,
    RANDOM,
    TABLE_TAG,
    best_at_40m,
    budget_runs,
    curve_to,
    default_runs,
    share_of_gain,
    stopped_at_budget,
    table_runs,
)

DOC = ROOT / "docs" / "suite.md"
CURVES = ROOT / "docs" / "suite_curves_10M.png"
EVAL_GAMES = 20
OURS = (
    "ALE v5, sticky actions 0.25, the v5 action set, 108,000-frame cut-off, LSTM; "
    f"{EVAL_GAMES} separate evaluation games on the final checkpoint (sampled actions, all "
    "lives, raw score), and beside it the mean of the last 100 training games"
)
STICKY = {True: "yes", False: "no", None: "not stated"}


def protocol_of(figures: list[dict], name: str) -> str:
    """One line on how the source `name` measured its figures, from their protocol fields."""
    found = [f for f in figures if f["name"] == name]
    kinds = {repr(sorted(f["protocol"].items())) for f in found}
    if len(kinds) != 1:
        raise ValueError(f"{name}: {len(kinds)} protocols among its figures, expected one")
    f, p = found[0], found[0]["protocol"]
    return (
        f"**{name}** ({f['agent']}; {f['source']}): {p['detail']}; sticky actions: "
        f"{STICKY[p['sticky_actions']]}; game starts: {p['start']}; counted over "
        f"{p['counted']}"
    )


def _wall(r: dict) -> str:
    """A run's training time, marked where its conv stack ran in fp32 (a CPU without
    native bf16: several times slower than the bf16 machine of most runs)."""
    fp32 = r.get("config", {}).get("precision") == "fp32"
    return minutes(r["train_wall_s"]) + (" in fp32" if fp32 else "")


def _precision(r: dict) -> str:
    """The conv stack's arithmetic the run's config.json records (auto resolved)."""
    return r["config"].get("precision", "?")


def _adopted(result: dict) -> str:
    """Where an adopted run came from, and where to read how it ran."""
    said = f"adopted: trained as {result['run']}"
    if result.get("trained_by"):
        said += f", by {result['trained_by']}, whose note says whether it ran alone"
    return said


def _settings(main: dict) -> str:
    """How the 40M table's runs were started, and what that is over the defaults."""
    flags = sorted({settings_of(r["command"]) for r in main.values()} - {""})
    said = "with no other setting" if not flags else "with " + " or ".join(f"`{f}`" for f in flags)
    said += " (machine-only flags such as threads included as they ran)"
    over = sorted({flags_over_defaults(r["config"]) for r in main.values()} - {""})
    if over:
        said += "; as flags over the defaults, " + " or ".join(f"`{f}`" for f in over)
    return said


def build_doc(results: list[dict], doc_tag: str = TABLE_TAG, figures: list | None = None) -> str:
    """docs/suite.md from the run JSONs: the 40M table beside the published figures, the
    10M curves and what the default budget is enough for, and every run."""
    figures = published() if figures is None else figures
    main, defaults = table_runs(results, doc_tag), default_runs(results)
    lines = [
        "# The Atari suite",
        "",
        "<!-- written by `python benchmarks/render/suite_page.py --write` (`make render`) from "
        "benchmarks/results/suite/*.json; edit the renderer, not this file -->",
        "",
        "One set of settings for every game, one seed per game, on the 2-core machine. "
        "Our protocol: " + OURS + ".",
        "",
        "## 40M frames",
        "",
        f"The settings: `--tag {doc_tag}`, i.e. `kungfu train --game G --frames 40000000` "
        f"{_settings(main)}. A wall time is "
        "the run's own clock; it was alone on the machine only where its load "
        '("Every run", below; two cores) stayed near 2 or under. Most ran on a CPU with '
        'native bf16; "in fp32" marks a run on one without it (AVX2 only), about 3.7 times '
        "slower (`benchmarks/results/throughput_ppo1x4.json` against `throughput_ppo4x4.json`).",
        "",
        "| game | ours: 20-game mean (last 100 training games) | wall time | "
        + " | ".join(COLUMNS)
        + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in COLUMNS) + " |",
    ]
    for game in GAMES:
        r = main.get((game, FORTY_M))
        shown = r or best_at_40m(results, game)  # else its best run with other settings
        ours, wall = "not run yet", "–"
        if shown:
            ours = f"{fmt(shown['eval']['mean'])} ({fmt(shown['last_100_training_mean'])})"
            ours += f", seed {shown['seed']}" if shown["seed"] else ""
            if shown is not r:
                ours = f"not with these; `--tag {shown['tag']}`: {ours}"
            wall = _wall(shown)
        cells = [fmt(value(figures, s, game)) for s in COLUMNS]
        lines.append(f"| {game} | {ours} | {wall} | " + " | ".join(cells) + " |")
    lines += ["", "Protocols of the published figures (`benchmarks/published_baselines.json`):", ""]
    lines += [f"- {protocol_of(figures, s)}." for s in COLUMNS]
    lines += _against_defaults(main, defaults, doc_tag)
    lines += _ten_million(main, defaults, budget_runs(results), figures)
    lines += _every_run(results)
    return "\n".join(lines) + "\n"


def _against_defaults(main: dict, defaults: dict, doc_tag: str) -> list[str]:
    """The games run at 40M frames both at the table's settings and at the defaults."""
    games = [g for g in GAMES if (g, FORTY_M) in main and (g, FORTY_M) in defaults]
    if doc_tag == "defaults" or not games:
        return []
    lines = [
        "",
        f"Why `--tag {doc_tag}` and not the defaults at 40M frames: the games run both ways "
        "(20-game mean; last 100 training games at 10M and at 40M frames):",
        "",
        f"| game | `--tag {doc_tag}` | the defaults |",
        "| --- | ---: | ---: |",
    ]
    for game in games:
        cells = []
        for r in (main[(game, FORTY_M)], defaults[(game, FORTY_M)]):
            at_10m = curve_to(r, BUDGET)
            early = fmt(at_10m[-1]["mean"]) if at_10m else "–"
            cells.append(f"{fmt(r['eval']['mean'])} ({early} → {fmt(r['last_100_training_mean'])})")
        lines.append(f"| {game} | " + " | ".join(cells) + " |")
    return lines


def _ten_million(
    main: dict, defaults: dict, runs: dict[str, list[dict]], figures: list[dict]
) -> list[str]:
    """The default budget's section: `runs` (budget_runs) against the 40M table's runs
    (`main`), or the defaults' own 40M runs where the table has none."""
    lines = ["", "## 10M frames: the default budget", ""]
    if not runs:
        return [*lines, "No run at the defaults has reached 10M frames yet."]
    lines += [
        f"![training curves at 10M frames]({CURVES.name})",
        "",
        "The first 10M frames of each game at the defaults (the runs whose recorded settings "
        "are the defaults, whatever their tag: a 10M run, or the first 10M frames of a 40M "
        "run: at a constant learning rate the two are the same settings up to there; a game "
        'run on two machines has a row, and a curve, for each). "share of the 40M gain": the '
        "last 100 training games at 10M frames against those at 40M frames in the table above "
        "(or a 40M run at the defaults where the table has none), each less random play's "
        f"score (DQN's table). The budget counts as enough for a game at {ENOUGH:.0%} or more "
        "in every run of it.",
        "",
        "| game | run | conv stack | 20-game mean at 10M | last 100 training games at 10M "
        f"| share of the 40M gain | {COLUMNS[0]} at 40M |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    enough, short = [], []
    for game in GAMES:
        long_run = main.get((game, FORTY_M)) or defaults.get((game, FORTY_M))
        at_40m = long_run["last_100_training_mean"] if long_run else None
        random_play = value(figures, RANDOM, game)
        shares = []
        for r in runs.get(game, []):
            curve = curve_to(r, BUDGET)
            at_budget = curve[-1]["mean"] if curve else None
            share = None
            if at_budget is not None and at_40m is not None and random_play is not None:
                share = share_of_gain(at_budget, at_40m, random_play)
            shares.append(share)
            evaluated = fmt(r["eval"]["mean"]) if stopped_at_budget(r) else "–"
            lines.append(
                f"| {game} | {millions(r['frames'])} | {_precision(r)} | {evaluated} | "
                f"{fmt(at_budget)} | {'–' if share is None else f'{share:.0%}'} "
                f"| {fmt(value(figures, COLUMNS[0], game))} |"
            )
        if shares and None not in shares:
            (enough if min(shares) >= ENOUGH else short).append(game)
    lines += [
        "",
        f"The default budget is enough for: {', '.join(enough) or 'none so far'}. "
        f"Not enough (40M frames learn clearly more): {', '.join(short) or 'none so far'}. "
        f"Not judged yet (no 40M run with the table's settings): "
        f"{', '.join(g for g in runs if g not in enough + short) or 'none'}.",
    ]
    return lines


def _every_run(results: list[dict]) -> list[str]:
    """Every run, with its figures, its load, the command that trained it and its settings
    over the defaults."""
    lines = [
        "",
        "## Every run",
        "",
        "A tag names the settings its runs ran with; the last column gives the flags that make "
        "the defaults learn as the run did (none: it ran at the defaults). Frames to three "
        "figures: a run stops at the end of the update that reaches its budget.",
        "",
        "| tag | game | frames | seed | 20-game mean (median; min–max) | last 100 training "
        "games | wall time (load at start → end) | command | over the defaults |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in sorted(results, key=lambda r: (r["tag"], GAMES.index(r["game"]), r["frames"])):
        e = r["eval"]
        lines.append(
            f"| {r['tag']} | {r['game']} | {millions(r['frames'])} | {r['seed']} | "
            f"{fmt(e['mean'])} ({fmt(e['median'])}; {fmt(e['min'])}–{fmt(e['max'])}) | "
            f"{fmt(r['last_100_training_mean'])} | {_wall(r)} "
            f"({r['load_before']} → {r.get('load_after', '?')}) | `{r['command']}`"
            + (f" ({_adopted(r)})" if r.get("adopted") else "")
            + (f" (the run {r['extended_from']}, trained on)" if r.get("extended_from") else "")
            + " |"
            + (f" `{flags_over_defaults(r['config'])}` |" if not at_defaults(r) else " none |")
        )
    return lines


def draw_curves(results: list[dict], path: Path) -> bool:
    """One panel per game: the mean of the last 100 training games against frames, over
    the default budget's 10M frames; False (nothing drawn) where no run is at the defaults."""
    runs = budget_runs(results)
    if not runs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = [g for g in GAMES if g in runs]
    fig, axes = plt.subplots(1, len(games), figsize=(3.2 * len(games), 3.0), squeeze=False)
    for ax, game in zip(axes[0], games, strict=True):
        for i, r in enumerate(runs[game]):
            curve = curve_to(r, BUDGET)
            several = len(runs[game]) > 1
            frames, means = [p["frames"] / 1e6 for p in curve], [p["mean"] for p in curve]
            ax.plot(frames, means, f"C{2 * i}", label=_precision(r) if several else "training")
            if stopped_at_budget(r):
                label = f"20-game eval, {_precision(r)}" if several else "20-game eval"
                ax.axhline(r["eval"]["mean"], color=f"C{2 * i + 1}", ls="--", lw=1, label=label)
        ax.legend(fontsize=6)
        r = runs[game][0]
        ax.set_title(game if stopped_at_budget(r) else f"{game} (of {millions(r['frames'])})")
        ax.set_xlabel("frames (M)")
    axes[0][0].set_ylabel("mean of last 100 training games")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/suite.md and its PNG")
    parser.add_argument("--tag", default=TABLE_TAG, help="the settings the 40M table shows")
    args = parser.parse_args(argv)
    results = suite_results()
    page = build_doc(results, args.tag)
    if not args.write:
        print(page, end="")
        return 0
    DOC.write_text(page)
    draw_curves(results, CURVES)
    print(f"wrote {DOC.relative_to(ROOT)} and {CURVES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
