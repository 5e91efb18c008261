"""CleanRL's own ``ppo_atari_envpool.py``, run from a scratch environment beside this package.

The peer's script is never part of this repository: ``setup`` reads it from a checkout of
``vwxyzjn/cleanrl`` (a work tree or a bare git directory), makes the adaptations that
gymnasium 1.x and envpool 1.2 need (`adapt_cleanrl.REPLACEMENTS`, listed in docs/peers.md),
and builds a virtual environment outside the package with envpool from the package
registry; ``run`` trains it and writes its learning curve as a result JSON::

    python benchmarks/peers/cleanrl.py setup --cleanrl /path/to/cleanrl --scratch /tmp/cleanrl
    python benchmarks/peers/cleanrl.py run --scratch /tmp/cleanrl --seed 1 --frames 5000000 \\
        --out benchmarks/results/peers/cleanrl-Breakout-5M-seed1.json

``run`` keeps the script's defaults (Breakout-v5, 8 games x 128 steps, 4 epochs x 4
minibatches, no sticky actions, fire on reset, a lost life ends the learning episode,
clipped rewards, 4 stacked 84x84 frames) and ``--total-timesteps 10000000``, so that its
learning rate falls as published, and stops after ``--frames`` game frames.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: the repository root, for `benchmarks.*`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.peers.adapt_cleanrl import adapt
from benchmarks.runner import write_report

SCRIPT = "cleanrl/ppo_atari_envpool.py"
PACKAGES = ["torch==2.13.0", "envpool==1.2.5", "gymnasium>=1.0", "tyro", "tensorboard"]
"""The scratch environment: this machine's CPU torch wheel; envpool 1.2.5 is the newest
release the machine's package index carries."""
TOTAL_TIMESTEPS = 10_000_000  # agent steps: the published schedule (40M frames)
WINDOW = 100  # the curve is the mean of the last WINDOW finished training games


def _read_script(cleanrl: Path) -> tuple[str, str]:
    """(the script's text, the commit it came from) from a work tree or a bare repository."""
    git = ["git", "-C", str(cleanrl)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    commit_id = commit.stdout.strip() if commit.returncode == 0 else "unknown"
    path = cleanrl / SCRIPT
    if path.is_file():
        return path.read_text(), commit_id
    shown = subprocess.run([*git, "show", f"HEAD:{SCRIPT}"], capture_output=True, text=True)
    if shown.returncode != 0:
        raise SystemExit(f"cleanrl.py: no {SCRIPT} in {cleanrl}")
    return shown.stdout, commit_id


def setup(cleanrl: Path, scratch: Path) -> None:
    """Write the adapted script and build the scratch venv under `scratch`."""
    scratch.mkdir(parents=True, exist_ok=True)
    text, commit = _read_script(cleanrl)
    (scratch / "ppo_atari_envpool.py").write_text(adapt(text))
    venv = scratch / "venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet"]
    subprocess.run([*pip, PACKAGES[0]], check=True)  # torch first: the CPU wheel
    subprocess.run([*pip, *PACKAGES[1:]], check=True)
    (scratch / "source.json").write_text(
        json.dumps({"repository": "vwxyzjn/cleanrl", "commit": commit, "script": SCRIPT})
    )
    print(f"adapted {SCRIPT} at {commit[:10]} into {scratch}")


def read_curve(csv: Path) -> list[tuple[int, float]]:
    """(frames, full-game score) of each finished training game, in order."""
    rows = csv.read_text().splitlines()[1:]
    return [(int(f), float(s)) for f, s in (r.split(",") for r in rows if r)]


def summarise(games: list[tuple[int, float]], every: int = 100_000) -> list[dict[str, float]]:
    """The mean of the last WINDOW games finished by each multiple of `every` frames."""
    curve, i, scores = [], 0, []
    if not games:
        return curve
    for mark in range(every, games[-1][0] + every, every):
        while i < len(games) and games[i][0] <= mark:
            scores.append(games[i][1])
            i += 1
        if scores:
            last = scores[-WINDOW:]
            curve.append({"frames": mark, "mean": sum(last) / len(last)})
    return curve


def run(scratch: Path, seed: int, frames: int, out: Path) -> None:
    """Train the adapted script for `frames` game frames; write the result JSON to `out`.

    The same command again after a stop resumes from the run's checkpoint in `scratch`;
    the training time adds up over the sittings (kept beside the checkpoint)."""
    csv = out.with_suffix(".csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint, wall_file = scratch / f"{out.stem}.ck", scratch / f"{out.stem}.wall_s"
    args = [
        "--seed",
        str(seed),
        "--total-timesteps",
        str(TOTAL_TIMESTEPS),
        "--stop-frames",
        str(frames),
        "--curve-csv",
        str(csv.resolve()),
        "--checkpoint",
        str(checkpoint.resolve()),
        "--no-cuda",
    ]
    before = float(wall_file.read_text()) if wall_file.exists() else 0.0
    start = time.time()
    with open(out.with_suffix(".log"), "a") as log:
        done = subprocess.run(
            [str(scratch / "venv" / "bin" / "python"), "ppo_atari_envpool.py", *args],
            cwd=scratch,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wall_file.write_text(str(before + time.time() - start))
    if done.returncode != 0:
        raise SystemExit(
            f"cleanrl.py: the run stopped (exit {done.returncode}); run it again "
            "to resume from its checkpoint"
        )
    record(scratch, csv, seed, frames, before + time.time() - start, out)


def peer_versions(python: Path) -> dict[str, str]:
    """The versions of the scratch environment the peer ran in (`python`, its interpreter),
    or {} where there is none to ask."""
    code = (
        "import importlib.metadata as m, platform\n"
        "print('python', platform.python_version())\n"
        "for name in ('torch', 'envpool', 'gymnasium', 'numpy'):\n"
        "    print(name, m.version(name))\n"
    )
    try:
        done = subprocess.run(
            [str(python), "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    if done.returncode != 0:
        return {}
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


def record(
    scratch: Path,
    csv: Path,
    seed: int,
    frames: int,
    wall_s: float,
    out: Path,
    python: Path | None = None,
) -> None:
    """The result JSON of a finished run from its curve CSV, through `runner.write_report`;
    `python`: the scratch environment's interpreter (default: `setup`'s venv)."""
    source = json.loads((scratch / "source.json").read_text())
    games = read_curve(csv)
    last = [s for _, s in games[-WINDOW:]]
    command = (
        f"python ppo_atari_envpool.py --seed {seed} --total-timesteps {TOTAL_TIMESTEPS}"
        f" --stop-frames {frames} --no-cuda"
    )
    result = {
        "peer": "cleanrl",
        **source,
        "game": "Breakout",
        "seed": seed,
        "frames": games[-1][0] if games else 0,
        "command": command,
        "train_wall_s": round(wall_s, 1),
        "last_100_training_mean": sum(last) / len(last) if last else None,
        "training_games": len(games),
        "curve": summarise(games),
        "peer_versions": peer_versions(python or scratch / "venv" / "bin" / "python"),
    }
    write_report(result, out)  # with the machine, its load, and this repository's commit
    print(
        f"cleanrl seed {seed}: last {WINDOW} training games {result['last_100_training_mean']}"
        f" at {frames:,} frames, {wall_s / 60:.1f} min -> {out}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", help="adapt the script and build the scratch venv")
    s.add_argument("--cleanrl", type=Path, required=True, help="a checkout of vwxyzjn/cleanrl")
    s.add_argument("--scratch", type=Path, required=True, help="a folder outside the package")
    r = sub.add_parser("run", help="train it and write the result JSON")
    r.add_argument("--scratch", type=Path, required=True)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--frames", type=int, default=5_000_000)
    r.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("record", help="write the result JSON of a run started by hand")
    c.add_argument("--scratch", type=Path, required=True)
    c.add_argument("--csv", type=Path, required=True, help="its --curve-csv")
    c.add_argument("--seed", type=int, required=True)
    c.add_argument("--frames", type=int, required=True)
    c.add_argument("--wall-s", type=float, required=True, help="its training time")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--python", type=Path, help="the interpreter it ran with (SCRATCH/venv's)")
    a = parser.parse_args(argv)
    if a.command == "setup":
        setup(a.cleanrl, a.scratch)
    elif a.command == "run":
        run(a.scratch, a.seed, a.frames, a.out)
    else:
        record(a.scratch, a.csv, a.seed, a.frames, a.wall_s, a.out, a.python)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
