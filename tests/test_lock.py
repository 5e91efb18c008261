"""One writer per run folder: an OS lock while a process trains in it; readers go on reading."""

import os
import signal
import subprocess
import sys
import time

import pytest

from kungfu_rl.runs.checkpoints import read_newest_checkpoint as load_newest
from kungfu_rl.runs.lock import LOCK_FILE, RunLock, RunLocked

FRAMES_PER_UPDATE = 2 * 4 * 4  # 2 games × 4 steps × frameskip 4


def kungfu(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kungfu_rl", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def tiny_flags(tmp_path, frames=10**9) -> list[str]:
    # checkpoints every 10 updates: each one lives a few seconds before rotation drops it,
    # time enough for a reader to open the newest
    return [
        f"--frames={frames}",
        *("--n-games=2", "--rollout-len=4", "--hidden=16", "--channels=8"),
        *("--eval-every=0", "--log-every=1", "--checkpoint-every=10", "--max-episode-frames=40"),
        *("--torch-threads=1", "--env-threads=1", "--seed=3", "--no-progress"),
        f"--runs-dir={tmp_path}",
        "--run-name=run",
    ]


def test_the_lock_is_taken_once_and_given_back(tmp_path):
    first, second = RunLock(), RunLock()
    first.acquire(tmp_path)
    assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
    # flock locks belong to an open file: a second opening conflicts, even in one process
    with pytest.raises(RunLocked, match=f"process {os.getpid()} is training in it"):
        second.acquire(tmp_path)
    first.release()
    first.release()  # twice is harmless
    assert (tmp_path / LOCK_FILE).read_text() == ""
    second.acquire(tmp_path)
    second.release()


def test_a_second_writer_exits_2_naming_the_holder_while_readers_read(tmp_path, spawn):
    run_dir = tmp_path / "run"
    trainer = spawn(
        [sys.executable, "-m", "kungfu_rl", "train", *tiny_flags(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while not list((run_dir / "checkpoints").glob("update-*.pt")):
        assert trainer.poll() is None, trainer.stderr.read()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.2)

    # all at once, while the trainer trains: two writers refused, three readers served
    writers = [
        kungfu("train", "--resume", run_dir, "--frames", 10**10),
        kungfu("train", *tiny_flags(tmp_path, frames=2048)),  # the same --run-name
    ]
    readers = [
        kungfu("eval", run_dir, "--games", 1),
        kungfu("plot", run_dir),
        kungfu("report", run_dir),
    ]
    for proc in writers:
        _, err = proc.communicate(timeout=120)
        lines = err.strip().splitlines()
        assert proc.returncode == 2, err[-2000:]
        assert len(lines) == 1 and f"process {trainer.pid} is training in it" in lines[0], err
    for proc in readers:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    assert trainer.poll() is None  # undisturbed
    assert (run_dir / LOCK_FILE).read_text().strip() == str(trainer.pid)

    # kill -9: the kernel drops the lock (the file still names the dead pid; it means nothing)
    trainer.send_signal(signal.SIGKILL)
    trainer.wait()
    _, payload, _ = load_newest(run_dir)
    frames = payload["frames"] + 2 * FRAMES_PER_UPDATE
    resumed = kungfu("train", "--resume", run_dir, "--frames", frames, "--no-progress")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err[-2000:]
    assert load_newest(run_dir)[1]["frames"] == frames
    assert (run_dir / LOCK_FILE).read_text() == ""  # given back at the end
