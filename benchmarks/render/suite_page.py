"""docs/suite.md and its curves, from the suite's JSONs and the published figures alone.

    python benchmarks/render/suite_page.py            # print the page
    python benchmarks/render/suite_page.py --write    # write docs/suite.md and its PNG
    python benchmarks/render/suite_page.py --runs     # print every run, with its command

The runs are `benchmarks/results/suite/*.json` (written by `benchmarks/suite.py`); the
published figures, each with its source and protocol, `benchmarks/published_baselines.json`.
The page shows, per game, the run of the setting it trains with (suite_runs.setting_run) at
10M frames beside DreamerV3's PPO and at 40M frames beside SLM-Lab's agents, each choice of
the standard Atari set-up against it (setup_choices), and sums up the runs of every other
setting in a line per network. A test checks that docs/suite.md is the
page this builds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.protocol import GAMES, ROOT, at_defaults, flags_over_defaults
from benchmarks.render import setup_choices
from benchmarks.render.common import (
    fmt,
    millions,
    minutes,
    published,
    score_cell,
    suite_results,
    value,
)
from benchmarks.render.suite_runs import (
    COLUMNS,
    FORTY_M,
    GENERAL_TAG,
    KUNGFU,
    NETWORKS,
    PPO_10M,
    STICKY,
    TABLE_TAG,
    TEN_M,
    curve_to,
    defaults_at,
    network_of,
    setting,
    setting_run,
    shown_runs,
    table_runs,
)

DOC = ROOT / "docs" / "suite.md"
CURVES = ROOT / "docs" / "suite_curves_10M.png"
EVAL_GAMES = 20
OURS = (
    "ALE v5, sticky actions 0.25, the v5 action set, 108,000-frame cut-off; "
    f"{EVAL_GAMES} separate evaluation games on the final checkpoint (sampled actions, all "
    "lives, raw score), and beside it the mean of the last 100 training games"
)
STICKY_SAID = {True: "yes", False: "no", None: "not stated"}


def protocol_of(figures: list[dict], name: str) -> str:
    """One line on how the source `name` measured its figures, from their protocol fields."""
    found = [f for f in figures if f["name"] == name]
    kinds = {repr(sorted(f["protocol"].items())) for f in found}
    if len(kinds) != 1:
        raise ValueError(f"{name}: {len(kinds)} protocols among its figures, expected one")
    f, p = found[0], found[0]["protocol"]
    return (
        f"**{name}** ({f['agent']}; {f['source']}): {p['detail']}; sticky actions: "
        f"{STICKY_SAID[p['sticky_actions']]}; game starts: {p['start']}; counted over "
        f"{p['counted']}"
    )


def _wall(r: dict) -> str:
    """A run's training time and the arithmetic of its conv stack (bf16 on a CPU with
    native bf16, else fp32, several times slower)."""
    return f"{minutes(r['train_wall_s'])}, {r['config'].get('precision', '?')}"


def _score(r: dict | None) -> str:
    """A run's 20-game mean and, in brackets, its last 100 training games."""
    if r is None:
        return "not run yet"
    return score_cell(r) + (f", seed {r['seed']}" if r["seed"] else "")


def _command(r: dict) -> str:
    """How a run was made, for a list under its table: the suite's command, the training
    command it ran, and where it was resumed, extended or adopted."""
    said = f"`{r.get('suite_command') or r['command']}`"
    if r.get("suite_command"):
        said += f", which ran `{r['command']}`"
    if r.get("extended_from"):
        said += f" (the run {r['extended_from']}, trained on"
        if r.get("extended_at_frames"):
            said += f" from {r['extended_at_frames'] / 1e6:.2f}M frames"
        said += ")"
    if r.get("resumed_at_frames"):
        said += " (resumed at " + ", ".join(f"{f / 1e6:.2f}M" for f in r["resumed_at_frames"])
        said += " frames)"
    if r.get("adopted"):
        said += f" (adopted: trained as {r['run']}"
        if r.get("trained_by"):
            said += f", by {r['trained_by']}, whose note says whether it ran alone"
        said += ")"
    before, after = r["load_before"], r.get("load_after", "?")
    return said + f"; load {before}" + (f" → {after}" if after != before else "")


def build_doc(results: list[dict], figures: list | None = None) -> str:
    """docs/suite.md from the run JSONs: per game, its setting's runs at 10M and 40M frames
    beside the published figures, their commands, and the other settings' runs in brief."""
    figures = published() if figures is None else figures
    lines = [
        "# The Atari suite",
        "",
        "<!-- written by `python benchmarks/render/suite_page.py --write` (`make render`) from "
        "benchmarks/results/suite/*.json; edit the renderer, not this file -->",
        "",
        "Every game but Kung-Fu Master trains with "
        f"`--preset {GENERAL_TAG}`, as `kungfu train --game G` does: the papers' network "
        "without memory on 4 stacked 84×84 frames, PPO with 8 games × 128 steps and "
        "4 epochs × 4 minibatches, FIRE after a start or a lost life, a lost life ending the "
        "value target, clipped rewards (docs/usage.md). Kung-Fu Master keeps the notebook's "
        "agent: the defaults (`make train`) at 10M frames and `--preset long` at 40M. One "
        "seed per game, on the 2-core machine. Our protocol: " + OURS + ".",
        "",
        *_ten_million(results, figures),
        *_forty_million(results, figures),
        *setup_choices.section(results),
        "",
        "Protocols of the published figures (`benchmarks/published_baselines.json`):",
        "",
        *(f"- {protocol_of(figures, s)}." for s in (PPO_10M, *COLUMNS)),
        *_other_settings(results),
    ]
    return "\n".join(lines) + "\n"


def _ten_million(results: list[dict], figures: list[dict]) -> list[str]:
    """The 10M table: each game's setting beside DreamerV3's PPO and the defaults."""
    lines = [
        "## 10M frames",
        "",
        f"![training curves at 10M frames]({CURVES.name})",
        "",
        f"| game | setting | ours: 20-game mean (last 100 training games) | {PPO_10M} | "
        "the defaults | wall time |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    ahead, run = [], []
    for game in GAMES:
        r = setting_run(results, game, TEN_M)
        ppo = value(figures, PPO_10M, game)
        defaults = defaults_at(results, game, TEN_M)
        if game == KUNGFU:
            beside = "(the same)"
        else:
            several = len(defaults) > 1
            beside = "; ".join(
                _score(d) + (f", {d['config'].get('precision')}" if several else "")
                for d in defaults
            )
        if r is not None:
            run.append(game)
            if ppo is not None and r["eval"]["mean"] > ppo:
                ahead.append(game)
        lines.append(
            f"| {game} | {setting(game, TEN_M)} | {_score(r)} | {fmt(ppo)} | {beside or '–'} "
            f"| {_wall(r) if r else '–'} |"
        )
    lines += [
        "",
        f"Ahead of {PPO_10M} (20-game mean against its figure) on {len(ahead)} of the "
        f"{len(run)} games run so far" + (f": {', '.join(ahead)}" if ahead else "") + ". "
        "The curves: the mean of the last 100 training games against frames, the defaults' "
        f"beside them, and {PPO_10M}'s figure at 10M as a dotted line.",
        "",
        *_commands(results, TEN_M),
    ]
    return lines


def _forty_million(results: list[dict], figures: list[dict]) -> list[str]:
    """The 40M table: each game's setting beside `--preset long` and SLM-Lab's agents."""
    longs = table_runs(results, TABLE_TAG)
    lines = [
        "",
        "## 40M frames",
        "",
        "| game | setting | ours: 20-game mean (last 100 training games) | wall time | "
        f"`--preset {TABLE_TAG}` | " + " | ".join(COLUMNS) + " |",
        "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in COLUMNS) + " |",
    ]
    for game in GAMES:
        r = setting_run(results, game, FORTY_M)
        long_run = longs.get((game, FORTY_M))
        beside = "(the same)" if game == KUNGFU else _score(long_run) if long_run else "–"
        cells = [fmt(value(figures, s, game)) for s in COLUMNS]
        lines.append(
            f"| {game} | {setting(game, FORTY_M)} | {_score(r)} | {_wall(r) if r else '–'} "
            f"| {beside} | " + " | ".join(cells) + " |"
        )
    lines += [
        "",
        f"`--preset {GENERAL_TAG}`'s learning rate falls to 0 over 40M frames whatever the "
        "budget, so its 40M runs are its 10M runs trained on (`benchmarks/suite.py --extend`).",
        "",
        *_commands(results, FORTY_M),
    ]
    return lines


def _commands(results: list[dict], frames: int) -> list[str]:
    """The command of each run a table shows, with its load (a score at a fixed number of
    frames holds on a loaded machine; a time does not)."""
    runs = [(g, setting_run(results, g, frames)) for g in GAMES]
    runs = [(g, r) for g, r in runs if r is not None]
    if not runs:
        return ["No run has reached these frames yet."]
    return ["Commands:", "", *(f"- {game}: {_command(r)}" for game, r in runs)]


def _other_settings(results: list[dict]) -> list[str]:
    """Every other run under the suite's protocol, a line per network: how many settings
    and runs, and each game's best 20-game mean (frames, tag); the set-up's choices have
    their own section."""
    shown = {id(r) for r in shown_runs(results)}
    others = [r for r in results if id(r) not in shown and r["tag"] not in setup_choices.CHOICES]
    protocol = [r for r in others if r["config"].get("sticky_actions") == STICKY]
    lines = [
        "",
        "## Other settings",
        "",
        "The runs of every other setting, by network: each game's best 20-game mean, its "
        "frames and tag (`--runs` below gives each run's settings over the defaults).",
        "",
    ]
    for key, name in NETWORKS.items():
        runs = [r for r in protocol if network_of(r) == key]
        if not runs:
            continue
        best = []
        for game in GAMES:
            of_game = [r for r in runs if r["game"] == game]
            if of_game:
                r = max(of_game, key=lambda r: (r["eval"]["mean"], -r["frames"]))
                said = f"{fmt(r['eval']['mean'])} ({millions(r['frames'])}, `{r['tag']}`)"
                best.append(f"{game} {said}")
        tags = {r["tag"] for r in runs}
        frames = sorted({r["frames"] for r in runs})
        span = millions(frames[0]) + (f"–{millions(frames[-1])}" if len(frames) > 1 else "")
        lines.append(
            f"- **{name}**: {_count(len(tags), 'setting')}, {_count(len(runs), 'run')} of "
            f"{span} frames; best " + ", ".join(best) + "."
        )
    left_out = sorted({r["tag"] for r in others if r["config"].get("sticky_actions") != STICKY})
    if left_out:
        lines.append(
            f"- Left out, without sticky actions {STICKY} (another protocol): "
            + ", ".join(f"`{t}`" for t in left_out)
            + "; the check against CleanRL's own script is docs/peers.md."
        )
    lines += [
        "",
        "Every run with its command, load and settings over the defaults: "
        "`python benchmarks/render/suite_page.py --runs`; each run's JSON is in "
        "`benchmarks/results/suite/`.",
    ]
    return lines


def _count(n: int, thing: str) -> str:
    """2 runs, 1 run."""
    return f"{n} {thing}" + ("s" if n != 1 else "")


def every_run(results: list[dict]) -> str:
    """Every run as a table: its figures, its load, the command that trained it and its
    settings over the defaults (none: it ran at the defaults)."""
    lines = [
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
            f"({r['load_before']} → {r.get('load_after', '?')}) | `{r['command']}` | "
            + (f"`{flags_over_defaults(r['config'])}` |" if not at_defaults(r) else "none |")
        )
    return "\n".join(lines) + "\n"


def draw_curves(results: list[dict], path: Path, figures: list | None = None) -> bool:
    """One panel per game: the mean of the last 100 training games against frames over
    10M frames, for the game's setting and the defaults, and DreamerV3's PPO at 10M as a
    dotted line; False (nothing drawn) where no game has either run."""
    figures = published() if figures is None else figures
    panels = []
    for game in GAMES:
        r = setting_run(results, game, TEN_M)
        defaults = [] if game == KUNGFU else defaults_at(results, game, TEN_M)[:1]
        panels.append((game, r, defaults))
    if not any(r or d for _, r, d in panels):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 4
    rows = -(-len(GAMES) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.9 * rows), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (game, r, defaults) in zip(axes.flat, panels, strict=False):
        for run, colour, label in [
            (r, "C0", setting(game, TEN_M).strip("`")),
            *((d, "C1", "the defaults") for d in defaults),
        ]:
            if run is None:
                continue
            curve = curve_to(run, TEN_M)
            ax.plot(
                [p["frames"] / 1e6 for p in curve], [p["mean"] for p in curve], colour, label=label
            )
        ppo = value(figures, PPO_10M, game)
        if ppo is not None:
            ax.axhline(ppo, color="C2", ls=":", lw=1.2, label=PPO_10M)
        ax.set_title(
            game if r else f"{game} ({setting(game, TEN_M).strip('`')}: not run yet)", fontsize=8
        )
        ax.set_xlim(0, TEN_M / 1e6)
        ax.set_xlabel("frames (M)")
        ax.legend(fontsize=6)
    for row in axes:
        row[0].set_ylabel("mean of last 100\ntraining games")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write docs/suite.md and its PNG")
    parser.add_argument("--runs", action="store_true", help="print every run, with its command")
    args = parser.parse_args(argv)
    results = suite_results()
    if args.runs:
        print(every_run(results), end="")
        return 0
    page = build_doc(results)
    if not args.write:
        print(page, end="")
        return 0
    DOC.write_text(page)
    draw_curves(results, CURVES)
    print(f"wrote {DOC.relative_to(ROOT)} and {CURVES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
