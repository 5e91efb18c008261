"""Ship a trained agent inside the package: src/kungfu_rl/pretrained/KungFuMaster.{pt,json}.

    python tools/package_agent.py RUN --score-json benchmarks/results/score-TAG.json \\
        --command "python benchmarks/score.py --tag TAG --seeds 0"

Takes RUN's final checkpoint, keeps only the model weights and the config (no optimizer,
no RNG: well under 2 MB), and writes beside it a JSON with the command that trained it, the
commit, the frames, and its 20-game evaluation (mean, median, min, max, evaluation seed)
from the score JSON of `benchmarks/score.py`, and the versions. Replace it whenever the
defaults change (a test fails when the packaged config no longer builds the network).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
from pathlib import Path

import torch

from kungfu_rl.config import Config, flag
from kungfu_rl.runs.checkpoints import find_checkpoint, read_checkpoint
from kungfu_rl.runs.files import settle
from kungfu_rl.runs.loading import PRETRAINED_FILE, load_agent
from kungfu_rl.runtime.machine import pick_device, pick_precision
from kungfu_rl.runtime.versions import versions


def train_command(config: dict) -> str:
    """`kungfu train` with the flags that differ from the defaults (where it wrote aside)."""
    defaults = dataclasses.asdict(Config())
    skip = {"runs_dir", "run_name", "device", "precision"}  # the last two: as resolved
    flags = [
        f"{flag(k)} {v}"
        for k, v in config.items()
        if k in defaults and k not in skip and v != defaults[k]
    ]
    return " ".join(["kungfu train", *flags])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the run folder whose final checkpoint ships")
    parser.add_argument("--score-json", type=Path, required=True)
    parser.add_argument("--command", required=True, help="the command that trained it")
    args = parser.parse_args()

    path = find_checkpoint(args.run)
    payload = read_checkpoint(path)
    config = run_config(payload["config"])
    weights = {k: v.float().clone() for k, v in payload["model"].items()}
    PRETRAINED_FILE.parent.mkdir(exist_ok=True)
    torch.save(
        {
            "model": weights,
            "config": config.to_json(),
            "update": payload["update"],
            "frames": payload["frames"],
        },
        PRETRAINED_FILE,
    )
    load_agent(PRETRAINED_FILE)  # it loads, weights only, into the current network
    record = describe(args, payload, config)
    PRETRAINED_FILE.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    size = PRETRAINED_FILE.stat().st_size
    mean = record["evaluation"]["mean"]
    print(f"wrote {PRETRAINED_FILE} ({size / 1e6:.2f} MB) and its JSON: mean {mean:,.0f}")


def run_config(text: str) -> Config:
    """The checkpoint's config as this version reads it (keys it no longer has dropped),
    with "auto" resolved as it was on this machine, where the run trained."""
    config = settle(Config.from_json(text))
    device = pick_device(config.device)
    return dataclasses.replace(
        config, device=device.type, precision=pick_precision(config.precision, device)
    )


def describe(args: argparse.Namespace, payload: dict, config: Config) -> dict:
    """The JSON beside the weights: how they were trained and how they scored."""
    score = json.loads(args.score_json.read_text())
    [result] = [r for r in score["results"] if Path(r["run"]).name == args.run.name]
    e = result["eval"]
    # score.py evaluates with kungfu eval's default seed unless its record says otherwise
    eval_seed = e.get("seed", 12345)
    sidecar = args.run / "score-train.json"  # score.py's record of how the run trained
    trained_on = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    commit = (
        trained_on.get("versions", {}).get("git_commit")
        or score.get("versions", {}).get("git_commit")
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    )
    return {
        "command": args.command,
        "trained_by": train_command(dataclasses.asdict(config)),
        "score_command": score["command"],
        "commit": commit,
        "frames": payload["frames"],
        "updates": payload["update"],
        "train_wall_s": result.get("train_wall_s"),
        "evaluation": {
            "games": len(e["scores"]),
            **{k: e[k] for k in ("mean", "median", "min", "max")},
            "seed": eval_seed,
            "scores": e["scores"],
            "protocol": "full games (all lives), sticky actions 0.25, raw score, "
            "actions sampled from the policy",
        },
        "score_json": str(args.score_json),
        "versions": versions(),
        "config": dataclasses.asdict(config),
    }


if __name__ == "__main__":
    main()
