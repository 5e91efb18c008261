"""Data-parallel training with torchrun on CPU (gloo), two processes on this machine."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch

from kungfu_rl.checkpoint import load_newest
from kungfu_rl.logger import read_metrics

WORKER = Path(__file__).with_name("dist_worker.py")


def tiny_settings(tmp_path, **kw):
    settings = dict(
        frames=8 * 2 * 2 * 4 * 4,  # 8 updates of 2 ranks × 2 games × 4 steps × frameskip 4
        n_games=2,
        rollout_len=4,
        hidden=16,
        channels=8,
        eval_every=0,
        log_every=2,
        checkpoint_every=4,
        runs_dir=str(tmp_path / "runs"),
        run_name="dist",
        progress=False,
        torch_threads=1,
        env_threads=1,
        seed=5,
        max_episode_frames=40,  # a game lasts 10 agent steps, so games end inside the run
    )
    return {**settings, **kw}


def torchrun_worker(tmp_path, *args) -> dict[str, torch.Tensor]:
    """Run tests/dist_worker.py on 2 ranks; check they end bit-identical; rank 0's params."""
    command = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = subprocess.run(
        [sys.executable, *command, str(WORKER), str(tmp_path), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # bit-identical
    return rank0


def test_two_ranks_stay_identical_and_count_both_ranks_games(tmp_path):
    settings = tiny_settings(tmp_path)
    rank0 = torchrun_worker(tmp_path, json.dumps(settings))
    run_dir = tmp_path / "runs" / "dist"
    metrics = read_metrics(run_dir / "metrics.csv")
    # 8 updates × 4 steps = 32 steps per game: each of the 4 games (2 per rank) ended 3 times
    assert sum(metrics["rollout/episodes"]) == 4 * 3
    assert metrics["frames"][-1] == settings["frames"]  # frames are counted over both ranks
    assert [int(u) for u in metrics["update"]] == [2, 4, 6, 8]
    # rank 0 alone wrote: one metrics header, one TensorBoard file, rank 0's checkpoints
    assert (run_dir / "metrics.csv").read_text().count("update,frames") == 1
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["dist"]
    _, payload, _ = load_newest(run_dir)
    assert payload["world_size"] == 2 and payload["update"] == 8
    assert all(torch.equal(payload["model"][k], rank0[k]) for k in rank0)

    # resumed on 2 ranks from rank 0's checkpoint: still identical, and the counts carry on
    torchrun_worker(tmp_path, json.dumps({"frames": settings["frames"] * 3 // 2}), run_dir)
    metrics = read_metrics(run_dir / "metrics.csv")
    assert [int(u) for u in metrics["update"]] == [2, 4, 6, 8, 10, 12]
    assert metrics["frames"][-1] == settings["frames"] * 3 // 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dead_rank_stops_the_others_with_a_clear_message(tmp_path, spawn):
    settings = tiny_settings(tmp_path, frames=10**9, checkpoint_every=2, dist_timeout_s=30.0)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items() if k != "progress"]
    port = free_port()
    procs = []
    for rank in (0, 1):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        procs.append(
            spawn(
                [sys.executable, "-m", "kungfu_rl", "train", *flags, "--no-progress"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    metrics = tmp_path / "runs" / "dist" / "metrics.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        not metrics.exists() or len(metrics.read_text().splitlines()) < 4
    ):
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)
    start = time.monotonic()
    _, err = procs[0].communicate(timeout=120)
    waited = time.monotonic() - start
    procs[1].wait()
    assert procs[0].returncode == 1, err[-2000:]
    assert "lost contact with another rank" in err
    assert waited < 30 + 15  # within the process-group timeout
    _, payload, _ = load_newest(tmp_path / "runs" / "dist")  # the last checkpoint loads
    assert payload["update"] >= 2
