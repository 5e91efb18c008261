"""The Atari suite: train each game under the ALE v5 protocol, score it, build docs/suite.md.

    python benchmarks/suite.py --tag long -- --preset long           # the 40M table: 7 games
    python benchmarks/suite.py --games Pong                        # 40M frames at the defaults
    python benchmarks/suite.py --games Pong Breakout --frames 10_000_000
    python benchmarks/suite.py --tag clip --games Pong -- --reward-mode clip
    python benchmarks/suite.py --doc                                 # docs/suite.md only
    python benchmarks/suite.py --tag long --games KungFuMaster --adopt runs/long-seed1 \
        --seed 1 -- --preset long                        # a run trained elsewhere, same settings

Each game is one `kungfu train --game G --frames F --seed S [extra flags]` (run folder
`<runs-dir>/suite-<tag>-<G>-<F>-seed<S>`; the protocol is the package's: ALE v5, sticky
actions 0.25, the v5 action set, a 108,000-frame cut-off), then `kungfu eval RUN --games 20`
on its final checkpoint (raw score, all lives). A finished run folder is scored again, not
retrained; an unfinished one stops the script (`kungfu train --resume` it first).

One JSON per run, `benchmarks/results/suite/<tag>-<G>-<F>-seed<S>.json`: game, seed,
frames, the run's wall time, the 20-game mean/median/min/max, the mean of the last 100
training games, the training curve, the config and the command; `bench_report` adds the
machine, its load and the commit. `--doc` (also done after every run) rebuilds
`docs/suite.md`, its curves PNG, and the table `kungfu games` marks measured games from
(`src/kungfu_rl/measured_games.json`, rewritten only when a figure in it changes), from
those JSONs alone; `--doc-tag` picks the settings the 40M table shows (default: `long`,
`--preset long`: the learning rate from 5e-4 annealed to 0 over the budget; the 10M section
always shows the defaults, `make train`'s settings).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from bench_report import ROOT, write_report
from score import (
    HOW_IT_RAN,
    differ_from_runs,
    final_eval,
    kungfu,
    load,
    moving_means,
    newest_eval,
    planned_config,
    train_seconds,
)

from kungfu_rl.config import Config, flag, spec_of
from kungfu_rl.runs.files import read_config

GAMES = ("Pong", "Breakout", "Seaquest", "SpaceInvaders", "BeamRider", "Qbert", "KungFuMaster")
RESULTS = ROOT / "benchmarks" / "results" / "suite"
SCORE_RESULTS = ROOT / "benchmarks" / "results"
"""Where `benchmarks/score.py` writes score-TAG.json, which names each run folder it trained."""
DOC = ROOT / "docs" / "suite.md"
CURVES = ROOT / "docs" / "suite_curves_10M.png"
MEASURED = ROOT / "src" / "kungfu_rl" / "measured_games.json"
GENERATED = (DOC, CURVES, MEASURED)  # rewritten after every run: not "uncommitted changes"
EVAL_GAMES = 20
CURVE_POINTS = 200  # rows of the training curve kept in each JSON

# Published scores at 40M frames (10M agent steps). Each source's protocol is stated in
# PROTOCOLS and in docs/suite.md; check the source before adding a figure.
PUBLISHED: dict[str, dict[str, float]] = {
    "SLM-Lab A2C-GAE": {
        "Pong": 10.17,
        "Breakout": 273,
        "Seaquest": 850,
        "SpaceInvaders": 784,
        "BeamRider": 2767,
        "Qbert": 12619,
        "KungFuMaster": 23006,
    },
    "SLM-Lab PPO": {
        "Pong": 16.69,
        "Breakout": 326.5,
        "Seaquest": 1775,
        "SpaceInvaders": 892.5,
        "BeamRider": 2762,
        "Qbert": 15460,
        "KungFuMaster": 28128,
    },
    "PPO paper's A2C": {
        "Pong": 19.7,
        "Breakout": 303.0,
        "Seaquest": 1714,
        "SpaceInvaders": 744.5,
        "BeamRider": 3032,
        "Qbert": 10066,
        "KungFuMaster": 24900,
    },
    "CleanRL PPO-LSTM": {"Pong": 19.78, "Breakout": 128.9, "BeamRider": 1536},
}
PROTOCOLS: dict[str, str] = {
    "SLM-Lab A2C-GAE": "gymnasium ALE v5 (sticky actions 0.25, frameskip 4) with up to 30 "
    "no-op starts, a feed-forward Nature CNN, 16 games; its `max_frame` 10M counts agent "
    "steps, i.e. 40M frames; a training-game figure: the mean of the last 100 full games, "
    "averaged over the last 100 log points and 4 sessions (kengz/SLM-Lab `docs/BENCHMARKS.md`, "
    "Atari, column MA)",
    "SLM-Lab PPO": "as SLM-Lab A2C-GAE, and per game the best of three GAE lambdas "
    "(0.95, 0.85, 0.70)",
    "PPO paper's A2C": "the mean of the last 100 training games, 3 trials, 40M frames "
    "(Schulman et al. 2017, Table 6); the game version and sticky actions are not stated "
    "(OpenAI baselines, which ran it, used NoFrameskip-v4: no sticky actions)",
    "CleanRL PPO-LSTM": "NoFrameskip-v4 (no sticky actions), up to 30 no-op starts, a lost "
    "life ends the training episode, an LSTM, 10M agent steps (40M frames); the mean of the "
    "last 100 training games (full games, unclipped), 3 seeds "
    "(vwxyzjn/cleanrl `docs/rl-algorithms/ppo.md`, ppo_atari_lstm)",
}
OURS = (
    "ALE v5, sticky actions 0.25, the v5 action set, 108,000-frame cut-off, LSTM; "
    f"{EVAL_GAMES} separate evaluation games on the final checkpoint (sampled actions, all "
    "lives, raw score), and beside it the mean of the last 100 training games"
)


def short_frames(frames: int) -> str:
    return f"{frames / 1e6:g}M"


def run_name(tag: str, game: str, frames: int, seed: int) -> str:
    return f"suite-{tag}-{game}-{short_frames(frames)}-seed{seed}"


NOT_LEARNED = {"game", "seed", "preset", "runs_dir", "run_name"}
"""Settings that say what was played and where it was saved, not how it learned; the
resumable ones (budget, machine, evaluation, saving) are left out beside them."""


def flags_over_defaults(config: dict) -> str:
    """The `kungfu train` flags that make today's defaults learn as a run whose recorded
    config is `config` did ('' for a run at today's defaults): a run tagged `defaults` when
    the defaults were others keeps its figure, and this says how to run it again."""
    ran, today = Config.from_dict(config), Config()
    flags = []
    for f in dataclasses.fields(Config):
        if f.name in NOT_LEARNED or spec_of(f).resumable:
            continue
        value = getattr(ran, f.name)
        if value == getattr(today, f.name):
            continue
        if isinstance(value, bool):
            flags.append(flag(f.name) if value else "--no-" + flag(f.name)[2:])
        else:
            flags.append(
                f"{flag(f.name)} {value:g}"
                if isinstance(value, float)
                else f"{flag(f.name)} {value}"
            )
    return " ".join(flags)


def at_defaults(result: dict) -> bool:
    """Whether a suite JSON's run learned with today's defaults, whatever its tag."""
    return flags_over_defaults(result["config"]) == ""


def check_adopted(run: Path, game: str, args: argparse.Namespace) -> None:
    """SystemExit unless the finished run folder `run` learned `game` for `args.frames`
    frames from seed `args.seed` with the settings `args.train_args` give."""
    planned = planned_config(
        ["--game", game, "--frames", str(args.frames), "--seed", str(args.seed), *args.train_args]
    )
    differ = differ_from_runs(planned, [run])
    seed = read_config(run).seed
    if seed != args.seed:
        differ = f"seed: {seed}, {args.seed}"
    if differ:
        raise SystemExit(f"--adopt {run} was trained with other settings ({differ})")


def check_same_settings(out: Path, game: str, args: argparse.Namespace) -> None:
    """SystemExit where the JSON `out` holds a run that learned with other settings than
    these (a tag, `defaults` say, whose settings changed since): its figure stays."""
    try:
        recorded = json.loads(out.read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # none yet, or not one this script wrote: it is written anew
    planned = planned_config(["--game", game, *args.train_args])
    if flags_over_defaults(recorded) != flags_over_defaults(planned):
        raise SystemExit(
            f"{out} holds a run with other settings "
            f"({flags_over_defaults(recorded) or 'the defaults'}): name these with another --tag"
        )


def trained_by(run: Path) -> str | None:
    """The score-*.json (a path from the repository's root) whose results name the run folder
    `run`: its note says how that run was trained (alone, or beside which others)."""
    for path in sorted(SCORE_RESULTS.glob("score-*.json")):
        try:
            results = json.loads(path.read_text()).get("results", [])
            runs = [Path(r["run"]) for r in results]
        except (OSError, ValueError, AttributeError, TypeError, KeyError):
            continue  # not a score JSON this script can read: it names no run
        if any((ROOT / r).resolve() == run.resolve() for r in runs):
            return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    return None


def train_and_score(args: argparse.Namespace, game: str) -> Path:
    """Train `game` unless its run folder finished, evaluate it, write its JSON. With
    `args.adopt`, that finished folder (trained by another script with the same settings)
    is the run, and its command is the one that would have trained it here."""
    run = args.adopt or args.runs_dir / run_name(args.tag, game, args.frames, args.seed)
    finished = any(run.glob("eval-final-*.json"))  # written as training ends
    if args.adopt:
        if not finished:
            raise SystemExit(f"--adopt {run}: no finished run there (no eval-final-*.json)")
        check_adopted(run, game, args)
    if run.exists() and not finished:
        raise SystemExit(f"{run} exists but did not finish: `kungfu train --resume {run}` first")
    name = run_name(args.tag, game, args.frames, args.seed)  # an adopted folder's own name aside
    out = RESULTS / f"{name.removeprefix('suite-')}.json"
    check_same_settings(out, game, args)
    load_before = load()
    train_cmd = kungfu(
        "train",
        "--game",
        game,
        "--frames",
        str(args.frames),
        "--seed",
        str(args.seed),
        "--runs-dir",
        str(run.parent),
        "--run-name",
        run.name,
        "--no-progress",
        *args.train_args,
    )
    if not finished:
        print("$", " ".join(train_cmd[2:]), flush=True)
        args.runs_dir.mkdir(parents=True, exist_ok=True)
        with (args.runs_dir / f"{run.name}.log").open("w") as log:
            code = subprocess.run(train_cmd, stdout=log, stderr=subprocess.STDOUT).returncode
        if code != 0:
            raise SystemExit(f"training {game} exited with code {code}; see {run}.log")
    record = final_eval(run, EVAL_GAMES)
    if record is None:
        print("$ kungfu eval", run, "--games", EVAL_GAMES, flush=True)
        subprocess.run(kungfu("eval", str(run), "--games", str(EVAL_GAMES)), check=True)
        record = newest_eval(run)
    curve = moving_means(run / "metrics.csv")
    step = max(1, len(curve) // CURVE_POINTS)
    report = {
        "tag": args.tag,
        "game": game,
        "seed": args.seed,
        "frames": record["frames"],
        "train_wall_s": train_seconds(run / "metrics.csv"),
        "eval": {k: record[k] for k in ("mean", "median", "min", "max", "scores", "seed")},
        "last_100_training_mean": curve[-1]["mean"] if curve else None,
        "curve": [{k: r[k] for k in ("frames", "minutes", "mean")} for r in curve[::step]],
        "run": str(run),
        "command": " ".join(["kungfu", *train_cmd[3:]]),
        "suite_command": " ".join(["python benchmarks/suite.py", *sys.argv[1:]]),
        "adopted": args.adopt is not None,
        "config": dataclasses.asdict(read_config(run)),
        "load_before": load_before,
        "load_after": load(),
    }
    if args.adopt:  # the loads around its training are not known here
        report["load_before"] = report["load_after"] = "not known (adopted)"
        report["trained_by"] = trained_by(run)
    write_report(report, out, generated=GENERATED)
    print(f"{game}: 20-game mean {record['mean']:,.1f}; wrote {out}", flush=True)
    return out


def read_results() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]


def _fmt(x: float | None) -> str:
    """One decimal, dropped from whole numbers of 100 and more: 17.0, 326.5, 1,775."""
    if x is None:
        return "–"
    text = f"{x:,.1f}"
    return text.removesuffix(".0") if abs(x) >= 100 else text


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def _wall(r: dict) -> str:
    """A run's training time, marked where its conv stack ran in fp32 (a CPU without
    native bf16: several times slower than the bf16 machine of most runs)."""
    fp32 = r.get("config", {}).get("precision") == "fp32"
    return _minutes(r["train_wall_s"]) + (" in fp32" if fp32 else "")


def build_doc(results: list[dict], doc_tag: str) -> str:
    """docs/suite.md from the run JSONs: the 40M table beside the published figures, the
    10M curves and what the default budget is enough for, and every run."""
    main = {  # per game and budget, its lowest seed at the doc's settings
        (r["game"], r["frames"]): r
        for r in sorted(results, key=lambda r: -r["seed"])
        if r["tag"] == doc_tag
    }
    defaults = {(r["game"], r["frames"]): r for r in results if at_defaults(r) and r["seed"] == 0}
    sources = list(PUBLISHED)
    flags = sorted({settings_of(r["command"]) for r in main.values()} - {""})
    settings = (
        "with no other setting" if not flags else "with " + " or ".join(f"`{f}`" for f in flags)
    )
    settings += " (machine-only flags such as threads included as they ran)"
    today = sorted({flags_over_defaults(r["config"]) for r in main.values()} - {""})
    if today:
        settings += ", over the defaults of the day it ran; over today's defaults: " + " or ".join(
            f"`{f}`" for f in today
        )
    lines = [
        "# The Atari suite",
        "",
        "<!-- written by `python benchmarks/suite.py --doc`; edit the script, not this file -->",
        "",
        "One set of settings for every game, one seed per game, on the 2-core machine. "
        "Our protocol: " + OURS + ".",
        "",
        "## 40M frames",
        "",
        f"The settings: `--tag {doc_tag}`, i.e. `kungfu train --game G --frames 40000000` "
        f"{settings}. A wall time is "
        "the run's own clock; it was alone on the machine only where its load "
        '("Every run", below; two cores) stayed near 2 or under. Most ran on a CPU with '
        'native bf16; "in fp32" marks a run on one without it (AVX2 only), about 3.7 times '
        "slower (`benchmarks/results/throughput_ppo1x4.json` against `throughput_ppo4x4.json`).",
        "",
        "| game | ours: 20-game mean (last 100 training games) | wall time | "
        + " | ".join(sources)
        + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in sources) + " |",
    ]
    for game in GAMES:
        r = main.get((game, 40_000_000))
        shown = r or best_at_40m(results, game)  # else its best run with other settings
        ours, wall = "not run yet", "–"
        if shown:
            ours = f"{_fmt(shown['eval']['mean'])} ({_fmt(shown['last_100_training_mean'])})"
            ours += f", seed {shown['seed']}" if shown["seed"] else ""
            if shown is not r:
                ours = f"not with these; `--tag {shown['tag']}`: {ours}"
            wall = _wall(shown)
        published = [_fmt(PUBLISHED[s].get(game)) for s in sources]
        lines.append(f"| {game} | {ours} | {wall} | " + " | ".join(published) + " |")
    lines += ["", "Protocols of the published figures:", ""]
    lines += [f"- **{s}**: {PROTOCOLS[s]}." for s in sources]
    lines += _against_defaults(main, defaults, doc_tag)
    lines += _ten_million(main, defaults, budget_runs(results))
    lines += [
        "",
        "## Every run",
        "",
        "A tag names settings as they were when its runs ran: the last column gives the flags "
        "that make today's defaults learn as the run did (none: it ran at today's defaults).",
        "",
        "| tag | game | frames | seed | 20-game mean (median; min–max) | last 100 training "
        "games | wall time (load at start → end) | command | over today's defaults |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in sorted(results, key=lambda r: (r["tag"], GAMES.index(r["game"]), r["frames"])):
        e = r["eval"]
        lines.append(
            f"| {r['tag']} | {r['game']} | {short_frames(r['frames'])} | {r['seed']} | "
            f"{_fmt(e['mean'])} ({_fmt(e['median'])}; {_fmt(e['min'])}–{_fmt(e['max'])}) | "
            f"{_fmt(r['last_100_training_mean'])} | {_wall(r)} "
            f"({r['load_before']} → {r.get('load_after', '?')}) | `{r['command']}`"
            + (f" ({_adopted(r)}) |" if r.get("adopted") else " |")
            + (f" `{flags_over_defaults(r['config'])}` |" if not at_defaults(r) else " none |")
        )
    return "\n".join(lines) + "\n"


def best_at_40m(results: list[dict], game: str) -> dict | None:
    """The 40M-frame run of `game` with the highest 20-game mean, whatever its settings
    (None where the game never ran to 40M frames)."""
    at_40m = [r for r in results if r["game"] == game and r["frames"] == 40_000_000]
    return max(at_40m, key=lambda r: r["eval"]["mean"], default=None)


def _adopted(result: dict) -> str:
    """Where an adopted run came from, and where to read how it ran."""
    said = f"adopted: trained as {result['run']}"
    if result.get("trained_by"):
        said += f", by {result['trained_by']}, whose note says whether it ran alone"
    return said


def _against_defaults(main: dict, defaults: dict, doc_tag: str) -> list[str]:
    """The games run at 40M frames both at the table's settings and at the defaults."""
    games = [g for g in GAMES if (g, 40_000_000) in main and (g, 40_000_000) in defaults]
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
        for r in (main[(game, 40_000_000)], defaults[(game, 40_000_000)]):
            at_10m = curve_to(r, BUDGET)
            early = _fmt(at_10m[-1]["mean"]) if at_10m else "–"
            cells.append(
                f"{_fmt(r['eval']['mean'])} ({early} → {_fmt(r['last_100_training_mean'])})"
            )
        lines.append(f"| {game} | " + " | ".join(cells) + " |")
    return lines


BUDGET = 10_000_000  # `make train`'s frames
ENOUGH = 0.9  # the share of the 40M run's gain over random play that counts as enough
RANDOM: dict[str, float] = {  # random play (DQN, Mnih et al. 2015, Extended Data Table 2)
    "Pong": -20.7,
    "Breakout": 1.7,
    "Seaquest": 68.4,
    "SpaceInvaders": 148.0,
    "BeamRider": 363.9,
    "Qbert": 163.9,
    "KungFuMaster": 258.5,
}


def stopped_at_budget(r: dict) -> bool:
    """Whether the run stopped at the default budget (within its last update's frames)."""
    return abs(r["frames"] - BUDGET) < 0.001 * BUDGET


def budget_runs(results: list[dict]) -> dict[str, list[dict]]:
    """Per game, the seed-0 runs at today's defaults whose first 10M frames are `make
    train`'s budget: the 10M runs (more than one where the game ran on two machines, in fp32
    and bf16, say), else the shortest longer one at a constant learning rate (nothing before
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


def share_of_gain(game: str, at_budget: float, at_40m: float) -> float | None:
    """How much of the 40M run's gain over random play the budget's figure has."""
    gain = at_40m - RANDOM[game]
    return (at_budget - RANDOM[game]) / gain if gain > 0 else None


def _ten_million(main: dict, defaults: dict, runs: dict[str, list[dict]]) -> list[str]:
    """The default budget's section: `runs` (budget_runs) against the 40M table's runs
    (`main`), or the defaults' own 40M runs where the table has none."""
    lines = ["", "## 10M frames: the default budget", ""]
    if not runs:
        return [*lines, "No run at the defaults has reached 10M frames yet."]
    lines += [
        f"![training curves at 10M frames]({CURVES.name})",
        "",
        "The first 10M frames of each game at today's defaults (the runs whose recorded "
        "settings are today's defaults, whatever their tag: a 10M run, or the first 10M frames "
        "of a 40M run: at a constant learning rate the two are the same settings up to there; "
        "a game run on two machines has a row, and a curve, for each). "
        '"share of the 40M gain": the last 100 training games at 10M '
        "frames against those at 40M frames in the table above (or a 40M run at today's "
        "defaults where the table has none), each less random play's score (DQN's table). The "
        f"budget counts as enough for a game at {ENOUGH:.0%} or more in every run of it.",
        "",
        "| game | run | conv stack | 20-game mean at 10M | last 100 training games at 10M "
        "| share of the 40M gain | SLM-Lab A2C-GAE at 40M |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    enough, short = [], []
    for game in GAMES:
        long_run = main.get((game, 40_000_000)) or defaults.get((game, 40_000_000))
        at_40m = long_run["last_100_training_mean"] if long_run else None
        shares = []
        for r in runs.get(game, []):
            curve = curve_to(r, BUDGET)
            at_budget = curve[-1]["mean"] if curve else None
            share = None
            if at_budget is not None and at_40m is not None:
                share = share_of_gain(game, at_budget, at_40m)
            shares.append(share)
            evaluated = _fmt(r["eval"]["mean"]) if stopped_at_budget(r) else "–"
            lines.append(
                f"| {game} | {short_frames(r['frames'])} | {_precision(r)} | {evaluated} | "
                f"{_fmt(at_budget)} | {'–' if share is None else f'{share:.0%}'} "
                f"| {_fmt(PUBLISHED['SLM-Lab A2C-GAE'].get(game))} |"
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


def _precision(r: dict) -> str:
    """The conv stack's arithmetic the run's config.json records (auto resolved)."""
    return r["config"].get("precision", "?")


def draw_curves(results: list[dict], path: Path) -> bool:
    """One panel per game: the mean of the last 100 training games against frames, over
    the default budget's 10M frames."""
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
        ax.set_title(game if stopped_at_budget(r) else f"{game} (of {short_frames(r['frames'])})")
        ax.set_xlabel("frames (M)")
    axes[0][0].set_ylabel("mean of last 100 training games")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def measured_games(results: list[dict], doc_tag: str) -> dict[str, dict]:
    """What `kungfu games` shows: per game, its longest measured run at today's defaults
    or at the 40M table's settings (those first, at equal frames), with the flags that make
    today's defaults learn as it did."""
    best: dict[str, dict] = {}
    for r in sorted(results, key=lambda r: r["tag"] != doc_tag):  # the table's tag first
        if r["tag"] != doc_tag and not at_defaults(r):
            continue
        if r["game"] not in best or r["frames"] > best[r["game"]]["frames"]:
            best[r["game"]] = {
                "frames": r["frames"],
                "seed": r["seed"],
                "mean": round(r["eval"]["mean"], 1),
                "games": len(r["eval"]["scores"]),
                "settings": flags_over_defaults(r["config"]),
            }
    return dict(sorted(best.items()))


def write_doc(doc_tag: str) -> None:
    results = read_results()
    draw_curves(results, CURVES)
    DOC.write_text(build_doc(results, doc_tag))
    games = measured_games(results, doc_tag)
    if games_in(MEASURED) == games:  # unchanged: keep its machine, load and commit as they are
        print(f"wrote {DOC}; {MEASURED} unchanged")
        return
    write_report({"games": games}, MEASURED, generated=GENERATED)
    print(f"wrote {DOC}, {MEASURED}")


def games_in(table: Path) -> dict | None:
    """The "games" of a measured-games JSON, or None where there is none to read."""
    try:
        return json.loads(table.read_text())["games"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


RUN_FLAGS = ("--game", "--frames", "--seed", "--runs-dir", "--run-name")  # set by the suite
MACHINE_FLAGS = tuple("--" + k.replace("_", "-") for k in sorted(HOW_IT_RAN - {"seed"}))


def settings_of(command: str, machine: bool = True) -> str:
    """The flags of a run's `kungfu train ...` command besides those the suite sets for
    every run (game, frames, seed, folders, --no-progress), and without the machine's
    (threads, device, precision) unless `machine`: "" for the defaults."""
    dropped = RUN_FLAGS if machine else RUN_FLAGS + MACHINE_FLAGS
    kept: list[str] = []
    skip = False
    for word in command.split()[2:]:
        if skip:
            skip = False
        elif word in dropped:
            skip = True  # its value follows
        elif word != "--no-progress" and word.split("=")[0] not in dropped:
            kept.append(word)
    return " ".join(kept)


def settings_flags(train_args: list[str]) -> list[str]:
    """The flags in `train_args` that change what a run learns: all but the machine's
    (threads, device, precision), which say only how it ran (score.HOW_IT_RAN)."""
    machine = {name.replace("_", "-") for name in HOW_IT_RAN}
    flags = [a for a in train_args if a.startswith("--")]
    return [f for f in flags if f[2:].split("=")[0].removeprefix("no-") not in machine]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", nargs="+", default=list(GAMES), metavar="GAME")
    parser.add_argument("--frames", type=float, default=40_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="defaults", help="names the settings (extra flags)")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--doc", action="store_true", help="only rebuild docs/suite.md")
    parser.add_argument("--doc-tag", default="long", help="settings the 40M table shows")
    parser.add_argument(
        "--adopt",
        type=Path,
        metavar="RUN",
        help="score this finished run folder (one game; the same settings) instead of training",
    )
    parser.add_argument("train_args", nargs="*", help="extra `kungfu train` flags, after --")
    args = parser.parse_args()
    args.frames = int(args.frames)
    changing = settings_flags(args.train_args)
    if args.tag == "defaults" and changing:
        parser.error(f"{' '.join(changing)} change the settings: name them with --tag")
    if args.adopt and len(args.games) != 1:
        parser.error("--adopt takes one run folder: name its game alone with --games")
    if not args.doc:
        for game in args.games:
            train_and_score(args, game)
    write_doc(args.doc_tag)


if __name__ == "__main__":
    main()
