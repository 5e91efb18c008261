"""Score: train with given settings and seeds, evaluate each run on 20 full games, write JSON.

    python benchmarks/score.py --tag default-10M --seeds 0 1 2
    python benchmarks/score.py --tag core-none-5M --frames 5_000_000 --seeds 0 -- --core none

Each seed is one `kungfu train --frames F --seed S [extra flags]` (run folder
`<runs-dir>/<tag>-seed<S>`), then `kungfu eval RUN --games 20` on its final checkpoint
(sticky actions, all lives, raw score). `--parallel` runs the seeds at the same time, one
torch and one emulator thread each (faster in all on 2 cores; each run's wall time is then
longer than alone, and the JSON says so). A run folder whose training finished is evaluated
again, not retrained; an unfinished one stops the script (resume it, or `--retrain` to
start over).

The JSON (`benchmarks/results/score-<tag>.json`) holds per seed: the `kungfu train` line
it ran (the top-level command is this script's last call), the 20 scores and their
statistics, frames, wall time of training (the run's own clock, `time/elapsed_s`, summed
over the sessions of a resumed run), the frames and minutes at which training games first
averaged 10,000 (over the last 100 games); `bench_report.write_report` adds the machine's
load, CPU count and versions. A JSON that exists already keeps its other seeds whose run
folders finished (`--seeds 3 4` adds two seeds to a JSON of 0-2; its command then names all
five, and its note stays unless `--note` gives another); `--replace` writes only `--seeds`.
Kept seeds must have learned with the settings of those about to train: checked before any
training starts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench_report import write_report

from kungfu_rl.runs.files import read_config, read_eval_records
from kungfu_rl.runs.metrics import read_metrics

BAR = 10_000.0
WINDOW = 100  # training games in the moving mean that decides "first reached the bar"
SIDECAR = "score-train.json"  # in each run folder: its command, how many runs trained at once


def kungfu(*args: str) -> list[str]:
    return [sys.executable, "-m", "kungfu_rl", *args]


def moving_means(metrics_csv: Path, window: int = WINDOW) -> list[dict]:
    """At every logged row after the first finished game: the mean score of the last
    `window` finished training games (fewer before `window` have finished), their count,
    and the row's frames, minutes and update.

    metrics.csv holds, per row, the mean score and the count of games finished since the
    previous row; the moving mean weights each row's mean by its count.
    """
    m = read_metrics(metrics_csv)
    rows: list[tuple[float, int]] = []  # (mean score, games) per row, newest last
    out = []
    for i, episodes in enumerate(m["rollout/episodes"]):
        n = int(episodes) if math.isfinite(episodes) else 0
        if n:
            rows.append((m["rollout/episode_score"][i], n))
        total, games = 0.0, 0
        for mean, k in reversed(rows):
            take = min(k, window - games)
            total, games = total + mean * take, games + take
            if games >= window:
                break
        if games:
            out.append(
                {
                    "frames": int(m["frames"][i]),
                    "minutes": round(m["time/elapsed_s"][i] / 60, 2),
                    "update": int(m["update"][i]),
                    "games": games,
                    "mean": total / games,
                }
            )
    return out


def time_to_bar(metrics_csv: Path, bar: float = BAR, window: int = WINDOW) -> dict | None:
    """First logged row where the last `window` finished training games average >= `bar`."""
    for row in moving_means(metrics_csv, window):
        if row["games"] >= window and row["mean"] >= bar:
            return {k: row[k] for k in ("frames", "minutes", "update")}
    return None


def train_seconds(metrics_csv: Path) -> float:
    """The run's own clock at its last metrics row (all sessions of a resumed run)."""
    return round(read_metrics(metrics_csv)["time/elapsed_s"][-1], 1)


def sampled_evals(run_dir: Path) -> list[dict]:
    """The run's `kungfu eval` records, oldest first, less the trainer's own (eval-final-*)
    and those of `--greedy` play: the benchmarks' protocol samples the policy's actions."""
    return [
        record
        for path, record in read_eval_records(run_dir)
        if not path.name.startswith("eval-final") and not record.get("greedy", False)
    ]


def newest_eval(run_dir: Path) -> dict:
    """The newest sampled `kungfu eval` record of a run."""
    return sampled_evals(run_dir)[-1]


def final_eval(run_dir: Path, games: int) -> dict | None:
    """A sampled `kungfu eval` record of the run's final checkpoint with `games` games, if one
    exists.

    Evaluation is seeded, so evaluating the same checkpoint again gives the same scores.
    """
    final_frames = int(read_metrics(run_dir / "metrics.csv")["frames"][-1])
    for record in sampled_evals(run_dir):
        if (record.get("games"), record.get("frames"), record.get("seed")) == (
            games,
            final_frames,
            12345,
        ):
            return record
    return None


def command_line(argv: list[str]) -> str:
    """This script's command line, without the --note (said apart in the JSON)."""
    kept, skip = [], False
    for arg in argv:
        if skip or arg == "--note" or arg.startswith("--note="):
            skip = arg == "--note"
            continue
        kept.append(arg)
    return " ".join(["python benchmarks/score.py", *kept])


def with_seeds(command: str, seeds: list[int]) -> str:
    """`command` (this script's) with its --seeds values replaced by `seeds`."""
    words: list[str] = []
    for word in command.split(" "):  # `--seeds=3` read as `--seeds 3`
        words += word.split("=", 1) if word.startswith("--seeds=") else [word]
    out, i = [], 0
    while i < len(words):
        out.append(words[i])
        if words[i] == "--seeds":
            out += [str(s) for s in seeds]
            i += 1
            while i < len(words) and not words[i].startswith("-"):
                i += 1
            continue
        i += 1
    if "--seeds" not in words:
        at = out.index("--") if "--" in out else len(out)
        out[at:at] = ["--seeds", *map(str, seeds)]
    return " ".join(out)


def run_folder(runs_dir: Path, tag: str, seed: int) -> Path:
    """Where seed `seed` of `tag` trains: `<runs-dir>/<tag>-seed<S>`."""
    return runs_dir / f"{tag}-seed{seed}"


def earlier_results(out: Path, runs_dir: Path, tag: str, seeds: list[int]) -> tuple[list[int], str]:
    """The seeds the JSON `out` holds beside `seeds` whose run folders finished, and its note:
    a run of this script with other seeds adds to the JSON rather than replacing it."""
    try:
        old = json.loads(out.read_text())
        recorded = [int(r["seed"]) for r in old["results"]]
        note = str(old.get("note", ""))
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or not this script's
        return [], ""
    finished = [s for s in recorded if any(run_folder(runs_dir, tag, s).glob("eval-final-*"))]
    return [s for s in finished if s not in seeds], note


HOW_IT_RAN = {"seed", "run_name", "runs_dir", "device", "precision"}
HOW_IT_RAN |= {"torch_threads", "env_threads", "acting_threads"}
"""Config keys that may differ between the seeds of one JSON: where and how a run ran, not
what it learned with (precision: "auto" resolves per machine)."""


def settings_that_differ(configs: list[dict]) -> str:
    """'' when every config agrees on every setting outside HOW_IT_RAN, else the first that
    does not, with its values."""
    for key in sorted({k for c in configs for k in c} - HOW_IT_RAN):
        values = {repr(c.get(key)) for c in configs}
        if len(values) > 1:
            return f"{key}: {', '.join(sorted(values))}"
    return ""


def planned_config(train_args: list[str]) -> dict:
    """The settings `kungfu train *train_args` would run with, as config.json records them
    (less what is resolved as it starts: HOW_IT_RAN's machine settings)."""
    from kungfu_rl.cli.parser import UsageError, build_parser, given_settings
    from kungfu_rl.config import Config, ConfigError

    try:
        given = given_settings(build_parser().parse_args(["train", *train_args]))
        return dataclasses.asdict(Config.from_preset(**given).validate())
    except (UsageError, ConfigError) as e:
        raise SystemExit(f"kungfu train {' '.join(train_args)}: {e}") from None


def differ_from_runs(planned: dict, runs: list[Path]) -> str:
    """'' when each run folder's config.json learned with the `planned` settings, else the
    first setting that differs (`settings_that_differ`); SystemExit in one line when a
    config.json is damaged."""
    from kungfu_rl.config import ConfigError

    try:
        configs = [dataclasses.asdict(read_config(run)) for run in runs]
    except ConfigError as e:
        raise SystemExit(str(e)) from None
    return settings_that_differ([planned, *configs])


def check_kept_settings(planned: dict, kept: dict[int, Path]) -> None:
    """SystemExit unless the runs of the `kept` seeds ({seed: run folder}) learned with the
    `planned` settings of the seeds about to train."""
    differ = differ_from_runs(planned, list(kept.values()))
    if differ:
        raise SystemExit(
            f"seeds {sorted(kept)} were trained with other settings ({differ}): "
            "another --tag, or --replace to keep only --seeds"
        )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", required=True, help="names the run folders and the JSON")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--frames", type=float, default=None, help="default: the package's")
    parser.add_argument("--games", type=int, default=20)
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"))
    parser.add_argument("--parallel", action="store_true", help="train all seeds at once")
    parser.add_argument("--retrain", action="store_true", help="delete and retrain runs")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="write only --seeds' results (default: the JSON's other finished seeds are kept)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--note", default="", help="said in the JSON and the README table")
    parser.add_argument("train_args", nargs="*", help="extra `kungfu train` flags, after --")
    args = parser.parse_args()
    out = args.out or Path(f"benchmarks/results/score-{args.tag}.json")

    kept, old_note = [], ""
    if not args.replace:
        kept, old_note = earlier_results(out, args.runs_dir, args.tag, args.seeds)
    if kept:
        print(f"keeping seeds {kept} of {out} (--replace to drop them)", flush=True)
    runs = {s: run_folder(args.runs_dir, args.tag, s) for s in args.seeds}
    todo = []  # seeds to train
    for seed, run in runs.items():
        if args.retrain:
            shutil.rmtree(run, ignore_errors=True)
        finished = any(run.glob("eval-final-*.json"))  # written as training ends
        if run.exists() and not finished:
            raise SystemExit(
                f"{run} exists but did not finish: `kungfu train --resume {run}`, or --retrain"
            )
        if not finished:
            todo.append(seed)
    threads = ["--torch-threads", "1", "--env-threads", "1"] if args.parallel else []
    frames = ["--frames", str(int(args.frames))] if args.frames else []
    if todo and kept:  # before hours of training, not after
        planned = planned_config([*frames, *threads, *args.train_args])
        check_kept_settings(planned, {s: run_folder(args.runs_dir, args.tag, s) for s in kept})
    load_before = load()
    procs: dict[int, subprocess.Popen] = {}
    commands: dict[int, str] = {}  # the `kungfu train` line each seed ran
    for seed in todo:
        cmd = kungfu(
            "train",
            *frames,
            "--seed",
            str(seed),
            "--runs-dir",
            str(args.runs_dir),
            "--run-name",
            runs[seed].name,
            "--no-progress",
            *threads,
            *args.train_args,
        )
        commands[seed] = " ".join(["kungfu", *cmd[3:]])
        print("$", " ".join(cmd[2:]), flush=True)
        args.runs_dir.mkdir(parents=True, exist_ok=True)
        log = (args.runs_dir / f"{runs[seed].name}.log").open("w")
        procs[seed] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        if not args.parallel:
            _wait(procs)
    _wait(procs)
    for seed in todo:  # how the run trained, with the load and versions it trained with
        sidecar = {"parallel_runs": len(todo) if args.parallel else 1, "command": commands[seed]}
        write_report(sidecar, runs[seed] / SIDECAR)

    runs.update({s: run_folder(args.runs_dir, args.tag, s) for s in kept})
    results = []
    for seed, run in sorted(runs.items()):
        record = final_eval(run, args.games)
        if record is None:
            print("$ kungfu eval", run, "--games", args.games, flush=True)
            subprocess.run(kungfu("eval", str(run), "--games", str(args.games)), check=True)
            record = newest_eval(run)
        config = dataclasses.asdict(read_config(run))
        sidecar = json.loads((run / SIDECAR).read_text()) if (run / SIDECAR).exists() else {}
        results.append(
            {
                "seed": seed,
                "run": str(run),
                "frames": record["frames"],
                "train_wall_s": train_seconds(run / "metrics.csv"),
                **({"parallel_runs": sidecar["parallel_runs"]} if sidecar else {}),
                **({"train_command": sidecar["command"]} if "command" in sidecar else {}),
                **(
                    {"train_commit": sidecar["versions"].get("git_commit")}
                    if "versions" in sidecar
                    else {}
                ),
                "eval": {k: record[k] for k in ("mean", "median", "min", "max", "scores", "seed")},
                "first_reached_10000": time_to_bar(run / "metrics.csv"),
                "config": config,
            }
        )
        print(f"seed {seed}: 20-game mean {record['mean']:.0f}", flush=True)
    differ = settings_that_differ([r["config"] for r in results])
    if differ:
        raise SystemExit(
            f"the seeds of {args.tag} were trained with different settings ({differ}): "
            "another --tag, or --replace to keep only --seeds"
        )
    means = [r["eval"]["mean"] for r in results]
    summary = {
        "tag": args.tag,
        "command": with_seeds(command_line(sys.argv[1:]), sorted(runs)),
        "results": results,
        "passed": sum(m >= BAR for m in means),
        "mean_of_means": sum(means) / len(means),
        "note": args.note or old_note,
        "load_before": load_before,
        "load_after": load(),
        "eval_versions": record["versions"],  # what the last evaluation ran on
    }
    print(f"{summary['passed']} of {len(means)} seeds at >= {BAR:,.0f}")
    write_report(summary, out)


def _wait(procs: dict[int, subprocess.Popen]) -> None:
    """Wait for every training process; stop at the first that fails."""
    while procs:
        for seed, proc in list(procs.items()):
            if proc.poll() is None:
                continue
            if proc.returncode != 0:
                raise SystemExit(f"training seed {seed} exited with code {proc.returncode}")
            del procs[seed]
        time.sleep(2)


if __name__ == "__main__":
    main()
