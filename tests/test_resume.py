"""Runs that survive: resume, Ctrl-C/SIGTERM, kill -9, non-finite updates, full disks."""

import dataclasses
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from kungfu_rl import Config
from kungfu_rl.agent.pool import EnvPool
from kungfu_rl.algo.update import train_on_rollout
from kungfu_rl.runs import checkpoints as ckpt
from kungfu_rl.runs.checkpoints import list_checkpoints
from kungfu_rl.runs.checkpoints import read_checkpoint as load_checkpoint
from kungfu_rl.runs.checkpoints import read_newest_checkpoint as load_newest
from kungfu_rl.runs.metrics import read_metrics
from kungfu_rl.training.launch import resume, train
from kungfu_rl.training.outcome import TrainingFailed, TrainingInterrupted
from kungfu_rl.training.trainer import Trainer

FRAMES_PER_UPDATE = 2 * 4 * 4  # 2 games × 4 steps × frameskip 4


def tiny(tmp_path, updates=8, **kw) -> Config:
    settings = dict(
        frames=updates * FRAMES_PER_UPDATE,
        n_games=2,
        rollout_len=4,
        hidden=16,
        channels=8,
        eval_every=0,
        log_every=1,
        checkpoint_every=4,
        runs_dir=str(tmp_path),
        run_name="run",
        torch_threads=1,
        env_threads=1,
        seed=3,
    )
    return Config(**{**settings, **kw})


def updates_logged(run_dir) -> list[int]:
    return [int(u) for u in read_metrics(run_dir / "metrics.csv").get("update", [])]


def params(run_dir) -> dict[str, torch.Tensor]:
    return load_checkpoint(list_checkpoints(run_dir)[-1])["model"]


@pytest.mark.parametrize("frame_stack, frame_size", [(1, 42), (4, 42), (1, 84)])
def test_resume_carries_on_counters_and_metrics(tmp_path, frame_stack, frame_size):
    result = train(tiny(tmp_path, updates=8, frame_stack=frame_stack, frame_size=frame_size))
    assert result.updates == 8 and updates_logged(result.run_dir) == list(range(1, 9))
    again = resume(result.run_dir, {"frames": 12 * FRAMES_PER_UPDATE})
    assert again.updates == 12 and again.frames == 12 * FRAMES_PER_UPDATE
    assert updates_logged(result.run_dir) == list(range(1, 13))
    assert load_checkpoint(list_checkpoints(result.run_dir)[-1])["update"] == 12
    folded = (frame_size // 42) ** 2  # an 84×84 frame's 2×2 blocks become channels
    assert params(result.run_dir)["conv.0.weight"].shape[1] == frame_stack * folded
    assert not (result.run_dir / "checkpoints" / "unreadable").exists()


def test_a_ppo_run_logs_how_far_each_update_moved_the_policy(tmp_path):
    """metrics.csv gains PPO's clip fraction and approximate KL, through a resume too."""
    result = train(tiny(tmp_path, updates=4, epochs=2, minibatches=2))
    again = resume(result.run_dir, {"frames": 6 * FRAMES_PER_UPDATE})
    assert again.updates == 6
    m = read_metrics(result.run_dir / "metrics.csv")
    assert list(m["update"]) == list(range(1, 7))
    assert all(0 <= f <= 1 for f in m["loss/clip_fraction"])
    assert all(k >= 0 for k in m["loss/approx_kl"]) and max(m["loss/approx_kl"]) > 0


def test_rows_logged_after_the_checkpoint_are_replaced_not_duplicated(tmp_path):
    run_dir = train(tiny(tmp_path, updates=8)).run_dir
    # As after a kill at update 8 just before its checkpoint: only update 4 is on disk.
    for path in list_checkpoints(run_dir):
        if load_checkpoint(path)["update"] > 4:
            path.unlink()
    resume(run_dir)
    assert updates_logged(run_dir) == list(range(1, 9))
    frames = read_metrics(run_dir / "metrics.csv")["frames"]
    assert frames == [u * FRAMES_PER_UPDATE for u in range(1, 9)]
    # TensorBoard too: the points the first session logged after update 4 are purged
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir))
    events.Reload()
    steps = [e.step for e in events.Scalars("loss/entropy")]
    assert steps == frames


def test_a_restored_trainer_makes_exactly_the_update_the_original_would(tmp_path):
    config = tiny(tmp_path).validate()
    (tmp_path / "run").mkdir()
    first = Trainer(config, tmp_path / "run")
    first._start = time.perf_counter()
    first.update, first.frames = 5, 5 * FRAMES_PER_UPDATE
    # give Adam some history so that its moments are part of what must be restored
    memory = [m.clone() for m in first.pool.prev_memory_states]
    rollout = first.pool.interact(5)
    train_on_rollout(first.agent, first.optimizer, *rollout, memory, normalizer=first.normalizer)
    path = first.checkpoint()
    payload = load_checkpoint(path)
    torch.rand(100)  # move the RNG on, as training after the checkpoint would
    second = Trainer(config, tmp_path / "run", resume_from=payload)
    assert (second.update, second.frames) == (5, 5 * FRAMES_PER_UPDATE)
    # the RNG stream is back where it was at the checkpoint...
    assert torch.equal(torch.get_rng_state(), payload["rng"]["torch"])
    # ...and the next update from the same rollout is the same, Adam's moments included
    rollout = first.pool.interact(5)
    memory = [torch.zeros_like(m) for m in first.pool.prev_memory_states]
    for t in (first, second):  # the statistics, restored, take in the same rewards alike
        t.normalizer.returns[:] = 0  # (each game's running return is not kept: new games)
        train_on_rollout(t.agent, t.optimizer, *rollout, memory, normalizer=t.normalizer)
    for a, b in zip(first.agent.parameters(), second.agent.parameters(), strict=True):
        assert torch.equal(a, b)
    for t in (first, second):
        t.pool.close()
        t.logger.close()


def test_same_seed_same_first_updates(tmp_path):
    a = train(tiny(tmp_path, run_name="a", updates=3)).run_dir
    # emulator threads do not matter: each game has its own seeded emulator
    b = train(tiny(tmp_path, run_name="b", updates=3, env_threads=2)).run_dir
    pa, pb = params(a), params(b)
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    c = train(tiny(tmp_path, run_name="c", updates=3, seed=4)).run_dir
    assert not all(torch.equal(pa[k], params(c)[k]) for k in pa)


def test_non_finite_updates_stop_the_run_with_its_last_checkpoint_intact(tmp_path, monkeypatch):
    real_play = EnvPool.play
    calls = {"n": 0}

    def poisoned(self, n_steps, **kwargs):
        rollout = real_play(self, n_steps, **kwargs)
        calls["n"] += 1
        if calls["n"] > 5:  # from update 6 on, a reward is NaN
            rewards = rollout.rewards.copy()
            rewards[0, 0] = float("nan")
            rollout = rollout._replace(rewards=rewards)
        return rollout

    monkeypatch.setattr(EnvPool, "play", poisoned)
    config = tiny(tmp_path, updates=20, max_nonfinite=3)
    with pytest.raises(TrainingFailed, match="3 non-finite updates in a row") as err:
        train(config)
    assert err.value.exit_code == 1
    run_dir = tmp_path / "run"
    _, payload, skipped = load_newest(run_dir)
    assert payload["update"] == 4 and not skipped
    assert all(torch.isfinite(v).all() for v in payload["model"].values())
    skipped_col = read_metrics(run_dir / "metrics.csv")["loss/skipped"]
    assert sum(skipped_col) == 2  # updates 6 and 7 were logged as skipped; 8 stopped the run


def test_a_full_disk_during_a_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    real_save = torch.save
    saves = {"n": 0}

    def fill_up(obj, f):
        saves["n"] += 1
        if saves["n"] == 2:
            f.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, f)

    monkeypatch.setattr(ckpt.torch, "save", fill_up)
    with pytest.raises(TrainingFailed, match="No space left on device") as err:
        train(tiny(tmp_path, updates=12))
    assert err.value.exit_code == 2
    monkeypatch.undo()
    _, payload, skipped = load_newest(tmp_path / "run")
    assert payload["update"] == 4 and not skipped
    assert not list((tmp_path / "run" / "checkpoints").glob(".tmp-*"))


def test_a_corrupted_newest_checkpoint_is_skipped_with_a_warning(tmp_path, capsys):
    run_dir = train(tiny(tmp_path, updates=8, keep_checkpoints=3)).run_dir
    newest = list_checkpoints(run_dir)[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    result = resume(run_dir, {"frames": 10 * FRAMES_PER_UPDATE})
    assert "skipped update-000000008.pt" in capsys.readouterr().err
    assert result.updates == 10
    assert updates_logged(run_dir) == list(range(1, 11))


def kungfu(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "kungfu_rl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def tiny_flags(tmp_path, updates=8, **kw):
    """`tiny`'s settings as `kungfu train` flags (those that differ from the defaults)."""
    c = tiny(tmp_path, updates=updates, **kw)
    return [
        f"--{f.name.replace('_', '-')}={getattr(c, f.name)}"
        for f in dataclasses.fields(Config)
        if getattr(c, f.name) != f.default
    ] + ["--no-progress"]


def test_resume_bad_input_gets_one_line_and_exit_2(tmp_path):
    run_dir = train(tiny(tmp_path, updates=4)).run_dir
    cases = [
        (["train", "--resume", tmp_path / "nope"], "no run folder"),
        (["train", "--resume", tmp_path], "holds no checkpoint"),
        (["train", "--resume", run_dir, "--game", "Breakout"], "--game cannot change"),
        (["train", "--resume", run_dir, "--hidden", "64"], "--hidden cannot change"),
        (["train", "--resume", run_dir, "--preset", "long"], "--preset cannot change"),
        (["train", "--resume", run_dir], "give a larger --frames"),
        (["train", "--runs-dir", run_dir / "config.json", "--frames", "2560"], "cannot write"),
        (["train", "--runs-dir", tmp_path, "--run-name", "run"], "holds a run already"),
    ]
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    for args, words in cases:
        result = kungfu(*args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, result.stderr)
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert after == before  # nothing saved was touched


def test_checkpoints_for_another_game_or_network_are_refused(tmp_path):
    run_dir = train(tiny(tmp_path, updates=4)).run_dir
    path = list_checkpoints(run_dir)[-1]
    payload = load_checkpoint(path)
    config = json.loads(payload["config"])
    # another network: the weights are for hidden=16, the settings say 32
    other = tmp_path / "other-net.pt"
    torch.save({**payload, "config": json.dumps({**config, "hidden": 32})}, other)
    result = kungfu("eval", other, "--games", 1)
    assert result.returncode == 2 and "does not fit" in result.stderr
    # another game: the run folder says Breakout, its checkpoint says Kung-Fu Master
    (run_dir / "config.json").write_text(json.dumps({**config, "game": "Breakout"}))
    result = kungfu("train", "--resume", run_dir, "--frames", 10 * FRAMES_PER_UPDATE)
    assert result.returncode == 2 and "made for KungFuMaster" in result.stderr


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_and_sigterm_save_and_say_how_to_resume(tmp_path, signum, code, spawn):
    flags = tiny_flags(tmp_path, updates=100_000)
    proc = spawn(
        [sys.executable, "-m", "kungfu_rl", "train", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = tmp_path / "run" / "metrics.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        not metrics.exists() or len(metrics.read_text().splitlines()) < 7
    ):
        time.sleep(0.2)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "resume with: kungfu train --resume" in err
    _, payload, _ = load_newest(tmp_path / "run")
    assert payload["update"] == updates_logged(tmp_path / "run")[-1] >= 6
    result = kungfu(
        "train",
        "--resume",
        tmp_path / "run",
        "--frames",
        (payload["update"] + 2) * FRAMES_PER_UPDATE,
    )
    assert result.returncode == 0, result.stderr
    assert updates_logged(tmp_path / "run") == list(range(1, payload["update"] + 3))


def test_kill_9_at_random_moments_leaves_a_resumable_run(tmp_path, spawn):
    rng = random.Random(0)
    flags = [*tiny_flags(tmp_path, updates=100_000), "--checkpoint-every=1"]
    run_dir = tmp_path / "run"
    kills, mid_write = 0, 0
    for attempt in range(6):
        args = flags if attempt == 0 else ["--resume", run_dir, "--no-progress"]
        rows_before = len(updates_logged(run_dir)) if attempt else 0
        proc = spawn(
            [sys.executable, "-m", "kungfu_rl", "train", *map(str, args)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # once this session has trained (a new metrics row), kill it at a random moment:
        # an update takes ~50 ms and a checkpoint is written after every one
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
            not (run_dir / "metrics.csv").exists() or len(updates_logged(run_dir)) <= rows_before
        ):
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        # a kill during a save leaves its temporary file, never a half checkpoint
        mid_write += bool(list((run_dir / "checkpoints").glob(".tmp-*")))
        _, payload, _ = load_newest(run_dir)  # loadable after every kill
        logged = updates_logged(run_dir)
        assert logged == sorted(set(logged))  # no duplicated rows
    assert kills == 6
    print(f"{kills} kills, {mid_write} of them during a checkpoint write")
    final = payload["update"] + 3
    result = kungfu("train", "--resume", run_dir, "--frames", final * FRAMES_PER_UPDATE)
    assert result.returncode == 0, result.stderr
    assert updates_logged(run_dir) == list(range(1, final + 1))


def test_ctrl_c_during_an_evaluation_loses_no_metrics_row(tmp_path, monkeypatch):
    import kungfu_rl.training.evaluation as trainer_module

    real_evaluate = trainer_module.evaluate

    def interrupted_evaluate(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the games are being played
        time.sleep(0.5)
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "evaluate", interrupted_evaluate)
    config = tiny(tmp_path, updates=20, eval_every=6, log_every=3, checkpoint_every=100)
    with pytest.raises(TrainingInterrupted) as stop:
        train(config)
    assert stop.value.checkpoint.name == "update-000000006.pt"
    assert updates_logged(tmp_path / "run") == [3, 6]  # the row of the dropped evaluation
    monkeypatch.undo()
    resume(tmp_path / "run", {"eval_every": 0})
    assert updates_logged(tmp_path / "run") == [3, 6, 9, 12, 15, 18, 20]
