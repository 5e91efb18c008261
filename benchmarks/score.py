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
averaged 10,000 (over the last 100 games); `runner.write_report` adds the machine's load,
CPU count and versions. A JSON that exists already keeps its other seeds whose run
folders finished (`--seeds 3 4` adds two seeds to a JSON of 0-2; its command then names all
five, and its note stays unless `--note` gives another); `--replace` writes only `--seeds`.
Kept seeds must have learned with the settings of those about to train: checked before any
training starts."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.protocol import planned_config, settings_that_differ
from benchmarks.runner import (
    WINDOW,
    as_typed,
    differ_from_runs,
    evaluated,
    finished,
    kungfu,
    load,
    moving_means,
    refuse_unfinished,
    run_result,
    start_training,
    write_report,
)

BAR = 10_000.0
SIDECAR = "score-train.json"  # in each run folder: its command, how many runs trained at once


def time_to_bar(metrics_csv: Path, bar: float = BAR, window: int = WINDOW) -> dict | None:
    """First logged row where the last `window` finished training games average >= `bar`."""
    for row in moving_means(metrics_csv, window):
        if row["games"] >= window and row["mean"] >= bar:
            return {k: row[k] for k in ("frames", "minutes", "update")}
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
    done = [s for s in recorded if finished(run_folder(runs_dir, tag, s))]
    return [s for s in done if s not in seeds], note


def check_kept_settings(planned: dict, kept: dict[int, Path]) -> None:
    """SystemExit unless the runs of the `kept` seeds ({seed: run folder}) learned with the
    `planned` settings of the seeds about to train."""
    differ = differ_from_runs(planned, list(kept.values()))
    if differ:
        raise SystemExit(
            f"seeds {sorted(kept)} were trained with other settings ({differ}): "
            "another --tag, or --replace to keep only --seeds"
        )


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
        refuse_unfinished(run, retrain_hint=", or --retrain")
        if not finished(run):
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
        commands[seed] = as_typed(cmd)
        procs[seed] = start_training(cmd, args.runs_dir / f"{runs[seed].name}.log")
        if not args.parallel:
            _wait(procs)
    _wait(procs)
    for seed in todo:  # how the run trained, with the load and versions it trained with
        sidecar = {"parallel_runs": len(todo) if args.parallel else 1, "command": commands[seed]}
        write_report(sidecar, runs[seed] / SIDECAR)

    runs.update({s: run_folder(args.runs_dir, args.tag, s) for s in kept})
    results = []
    for seed, run in sorted(runs.items()):
        record = evaluated(run, args.games)
        result = run_result(run, record)  # run, frames, train_wall_s, eval, config
        config = result.pop("config")
        sidecar = json.loads((run / SIDECAR).read_text()) if (run / SIDECAR).exists() else {}
        if sidecar:
            result["parallel_runs"] = sidecar["parallel_runs"]
        if "command" in sidecar:
            result["train_command"] = sidecar["command"]
        if "versions" in sidecar:
            result["train_commit"] = sidecar["versions"].get("git_commit")
        result["first_reached_10000"] = time_to_bar(run / "metrics.csv")
        results.append({"seed": seed, **result, "config": config})
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
