"""Data-parallel training with torchrun on CPU (gloo), two processes on this machine."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from kungfu_rl.runs.checkpoints import read_newest_checkpoint as load_newest
from kungfu_rl.runs.metrics import read_metrics

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
        torch_threads=1,
        env_threads=1,
        seed=5,
        max_episode_frames=40,  # a game lasts 10 agent steps, so games end inside the run
    )
    return {**settings, **kw}


def torchrun_worker(tmp_path, *args) -> dict[str, torch.Tensor]:
    """Run tests/dist_worker.py on 2 ranks; check they end bit-identical, their reward
    statistics too; rank 0's params."""
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
    assert reward_statistics(tmp_path, 0) == reward_statistics(tmp_path, 1)  # one set
    return rank0


def reward_statistics(tmp_path, rank: int) -> dict[str, float] | None:
    """The ReturnNormalizer statistics rank `rank` ended with (tests/dist_worker.py's)."""
    return json.loads((tmp_path / f"rank{rank}.json").read_text())


def test_two_ranks_stay_identical_and_count_both_ranks_games(tmp_path):
    settings = tiny_settings(tmp_path, reward_mode="normalize")
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
    # the ranks share their reward statistics: every step of both ranks' games went in
    steps = 2 * 2 * 4  # per update: 2 ranks × 2 games × 4 steps
    assert payload["reward_normalizer"] == reward_statistics(tmp_path, 0)
    assert payload["reward_normalizer"]["count"] == 8 * steps

    # resumed on 2 ranks from rank 0's checkpoint: still identical, and the counts carry on
    torchrun_worker(tmp_path, json.dumps({"frames": settings["frames"] * 3 // 2}), run_dir)
    metrics = read_metrics(run_dir / "metrics.csv")
    assert [int(u) for u in metrics["update"]] == [2, 4, 6, 8, 10, 12]
    assert metrics["frames"][-1] == settings["frames"] * 3 // 2
    # every rank took up the checkpoint's statistics and went on sharing them
    _, payload, _ = load_newest(run_dir)
    assert payload["reward_normalizer"] == reward_statistics(tmp_path, 0)
    assert payload["reward_normalizer"]["count"] == 12 * steps


def test_two_ranks_share_one_set_of_reward_statistics(tmp_path, monkeypatch):
    """Each rank's games pay differently (CountdownGame: 1 a step, games of random length);
    the ranks still divide rewards by one deviation, that of every rank's returns, which
    rank 0's checkpoint keeps and a resume gives every rank."""
    monkeypatch.setenv("KUNGFU_TEST_GAME", "countdown")
    steps = 2 * 2 * 4  # per update: 2 ranks × 2 games × 4 steps
    settings = tiny_settings(tmp_path, reward_mode="normalize", frames=4 * steps * 4)
    torchrun_worker(tmp_path, json.dumps(settings))  # checks that the ranks' statistics agree
    run_dir = tmp_path / "runs" / "dist"
    statistics = reward_statistics(tmp_path, 0)
    assert statistics["count"] == 4 * steps and statistics["mean"] > 0
    _, payload, _ = load_newest(run_dir)
    assert payload["reward_normalizer"] == statistics
    torchrun_worker(tmp_path, json.dumps({"frames": 6 * steps * 4}), run_dir)
    assert reward_statistics(tmp_path, 0)["count"] == 6 * steps


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


# --- several machines that share no disk: two torchrun launches, each in its own folder ---

TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (torchrun starts its workers in sessions of their own, so
    killing the launcher's process group would leave them running)."""
    children: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return [pid] + [p for child in children for p in process_tree(child)]


def kill_tree(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def machines(tmp_path):
    """Starts `torchrun --nnodes 2 --node_rank N ... -m kungfu_rl train ARGS` for N = 0, 1,
    as on two machines that share no disk: each in its own empty folder, node<N>/; their
    output goes to node<N>.out / node<N>.err beside those folders. Everything they started
    is killed at teardown."""
    started: list[subprocess.Popen] = []

    def launch(*args) -> list[subprocess.Popen]:
        port = free_port()
        procs = []
        for node in (0, 1):
            folder = tmp_path / f"node{node}"
            folder.mkdir(exist_ok=True)
            with (
                open(tmp_path / f"node{node}.out", "w") as out,
                open(tmp_path / f"node{node}.err", "w") as err,
            ):
                command = [
                    *TORCHRUN,
                    *("--nnodes", "2", "--nproc_per_node", "1", "--node_rank", str(node)),
                    *("--master_addr", "127.0.0.1", "--master_port", str(port)),
                    *("--max-restarts", "0", "-m", "kungfu_rl", "train"),
                    *map(str, args),
                ]
                procs.append(subprocess.Popen(command, cwd=folder, stdout=out, stderr=err))
        started.extend(procs)
        return procs

    yield launch
    for proc in started:
        if proc.poll() is None:
            kill_tree(process_tree(proc.pid))
            proc.wait()


def node_settings(**kw) -> list[str]:
    """The flags of a tiny run; the run folder is runs/dist under each node's own folder."""
    settings = tiny_settings(Path("."), **{"dist_timeout_s": 30.0, **kw})
    del settings["runs_dir"]  # the default, runs/, relative to where each node starts
    return [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()] + ["--no-progress"]


def finish(procs, timeout=120) -> None:
    for proc in procs:
        proc.wait(timeout=timeout)


def output(tmp_path, node: int) -> tuple[str, str]:
    return (tmp_path / f"node{node}.out").read_text(), (tmp_path / f"node{node}.err").read_text()


def test_two_machines_that_share_no_disk_train_evaluate_report_and_resume(tmp_path, machines):
    frames = 8 * 2 * 2 * 4 * 4  # 8 updates of 2 ranks × 2 games × 4 steps × frameskip 4
    procs = machines(*node_settings(eval_every=4, eval_games=2))
    finish(procs)
    assert [p.returncode for p in procs] == [0, 0], output(tmp_path, 0)[1][-3000:]
    run_dir = tmp_path / "node0" / "runs" / "dist"
    for node in (0, 1):
        _, err = output(tmp_path, node)
        assert "Traceback" not in err, err[-3000:]
    out0, _ = output(tmp_path, 0)
    assert "run folder: runs/dist" in out0
    assert output(tmp_path, 1)[0] == ""  # rank 0 speaks for the run
    assert list((tmp_path / "node1").iterdir()) == []  # node 1 wrote nothing at all
    assert (run_dir / "report.html").is_file() and (run_dir / "config.json").is_file()
    assert len(list(run_dir.glob("eval-*.json"))) == 1  # the final evaluation's record
    assert [int(u) for u in read_metrics(run_dir / "metrics.csv")["update"]] == [2, 4, 6, 8]
    _, payload, _ = load_newest(run_dir)
    assert payload["world_size"] == 2 and payload["frames"] == frames

    # resumed: rank 0 alone has the run folder; it sends the state to node 1
    procs = machines("--resume", "runs/dist", f"--frames={frames * 3 // 2}", "--no-progress")
    finish(procs)
    assert [p.returncode for p in procs] == [0, 0], output(tmp_path, 0)[1][-3000:]
    _, err0 = output(tmp_path, 0)
    assert "resuming runs/dist from update-000000008.pt" in err0
    assert "Traceback" not in output(tmp_path, 1)[1]
    assert list((tmp_path / "node1").iterdir()) == []
    updates = [int(u) for u in read_metrics(run_dir / "metrics.csv")["update"]]
    assert updates == [2, 4, 6, 8, 10, 12]
    assert len(list(run_dir.glob("eval-*.json"))) == 2
    _, payload, _ = load_newest(run_dir)
    assert payload["update"] == 12 and len(payload["evaluations"]) == 3  # at 4, 8 and 12


def test_a_lost_machine_stops_node_0_within_the_timeout_and_the_run_resumes(tmp_path, machines):
    timeout_s = 20
    node0, node1 = machines(
        *node_settings(frames=10**9, checkpoint_every=2, dist_timeout_s=timeout_s)
    )
    checkpoints = tmp_path / "node0" / "runs" / "dist" / "checkpoints"
    deadline = time.monotonic() + 90
    while not list(checkpoints.glob("update-*.pt")) and time.monotonic() < deadline:
        assert node0.poll() is None and node1.poll() is None, output(tmp_path, 0)[1][-3000:]
        time.sleep(0.2)
    kill_tree(process_tree(node1.pid))  # the machine is gone: its launcher and its worker
    start = time.monotonic()
    node0.wait(timeout=timeout_s + 60)
    waited = time.monotonic() - start
    assert waited < timeout_s + 10
    _, err = output(tmp_path, 0)
    assert node0.returncode != 0
    ours = [line for line in err.splitlines() if line.startswith("kungfu:")]
    assert len(ours) == 1 and "lost contact with another rank" in ours[0], err[-3000:]
    assert "last checkpoint: runs/dist/checkpoints/update-" in ours[0]
    assert "kungfu_rl/" not in err  # no traceback through the package (torchrun adds its own)
    assert list((tmp_path / "node1").iterdir()) == []

    _, payload, _ = load_newest(checkpoints.parent)
    frames = payload["frames"] + 4 * 2 * 2 * 4 * 4  # four more updates
    procs = machines("--resume", "runs/dist", f"--frames={frames}", "--no-progress")
    finish(procs)
    assert [p.returncode for p in procs] == [0, 0], output(tmp_path, 0)[1][-3000:]
    assert list((tmp_path / "node1").iterdir()) == []
    _, resumed, _ = load_newest(checkpoints.parent)
    assert resumed["update"] == payload["update"] + 4 and resumed["frames"] == frames
