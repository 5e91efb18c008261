"""Checkpoints: atomic, the newest K loadable kept, safe to load, a bad one falls back to an
older one and is moved aside, never counted as kept."""

import errno
import os
import pickle
import random

import numpy as np
import pytest
import torch

from kungfu_rl import Config, RecurrentAgent
from kungfu_rl.runs import checkpoints as ckpt
from kungfu_rl.runs.checkpoints import list_checkpoints, rng_state, save_checkpoint, set_rng_state
from kungfu_rl.runs.checkpoints import read_checkpoint as load_checkpoint
from kungfu_rl.runs.checkpoints import read_newest_checkpoint as load_newest
from kungfu_rl.runs.errors import CheckpointError


def payload(update: int, frame_stack: int = 1, frame_size: int = 42) -> dict:
    """A checkpoint as the trainer writes it (a tiny network) at `update`."""
    torch.manual_seed(update)
    agent = RecurrentAgent((frame_stack, frame_size, frame_size), hidden=16, channels=8)
    return {
        "model": agent.state_dict(),
        "optimizer": torch.optim.Adam(agent.parameters()).state_dict(),
        "update": update,
        "frames": update * 32,
        "config": Config(
            hidden=16, channels=8, frame_stack=frame_stack, frame_size=frame_size
        ).to_json(),
    }


def test_newest_k_are_kept(tmp_path):
    for update in range(1, 6):
        save_checkpoint(payload(update), tmp_path, update, keep=2)
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["update-000000004.pt", "update-000000005.pt"]
    assert load_checkpoint(list_checkpoints(tmp_path)[-1])["update"] == 5


def test_best_is_kept_apart_from_the_newest(tmp_path):
    save_checkpoint(payload(1), tmp_path, 1, keep=1, name="best.pt")
    for update in range(2, 5):
        save_checkpoint(payload(update), tmp_path, update, keep=1)
    assert (tmp_path / "checkpoints" / "best.pt").is_file()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["update-000000004.pt"]


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    save_checkpoint(payload(1), tmp_path, 1, keep=3)

    def disk_full(obj, f):
        f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt.torch, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(payload(2), tmp_path, 2, keep=3)
    monkeypatch.undo()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["update-000000001.pt"]
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))  # no half-written leftovers
    assert load_checkpoint(list_checkpoints(tmp_path)[0])["update"] == 1


def test_a_truncated_newest_checkpoint_falls_back_to_the_older_one(tmp_path):
    save_checkpoint(payload(1), tmp_path, 1, keep=3)
    newest = save_checkpoint(payload(2), tmp_path, 2, keep=3)
    newest.write_bytes(newest.read_bytes()[:100])
    path, loaded, skipped = load_newest(tmp_path)
    assert loaded["update"] == 1 and path.name == "update-000000001.pt"
    assert [p for p, _ in skipped] == [newest]


def test_no_loadable_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        load_newest(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "update-000000001.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="no loadable checkpoint"):
        load_newest(tmp_path)


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_that_runs_code_is_refused(tmp_path):
    target = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    with evil.open("wb") as f:
        pickle.dump({"model": _Exploit(str(target)), "config": "{}"}, f)
    # the payload does create the file when unpickled the unsafe way (so the test can fail)...
    pickle.loads(evil.read_bytes())
    assert target.exists()
    target.unlink()
    # ...and load_checkpoint refuses it without running it
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(evil)
    assert not target.exists()


def test_rng_states_round_trip():
    state = rng_state()
    a = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_state(state)
    b = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]


def test_rng_state_survives_a_safe_load(tmp_path):
    path = save_checkpoint({**payload(1), "rng": rng_state()}, tmp_path, 1, keep=1)
    expected = torch.rand(2)
    set_rng_state(load_checkpoint(path)["rng"])
    torch.testing.assert_close(torch.rand(2), expected)
    assert os.path.getsize(path) > 0


class FakeGpus:
    """torch.cuda's RNG functions for a machine with `n` GPUs, each state a 16-byte tensor."""

    def __init__(self, monkeypatch, n: int, initialized: bool = True):
        self.states = [torch.full((16,), 10 + k, dtype=torch.uint8) for k in range(n)]
        self.asked = 0
        for name, fn in {
            "is_available": lambda: n > 0,
            "is_initialized": lambda: initialized,
            "device_count": lambda: n,
            "get_rng_state_all": self.get_all,
            "set_rng_state": self.set,
        }.items():
            monkeypatch.setattr(torch.cuda, name, fn)

    def get_all(self):
        self.asked += 1
        return [s.clone() for s in self.states]

    def set(self, state, device):
        assert 0 <= device < len(self.states)
        self.states[device] = state.clone()


def test_the_gpus_rng_states_are_kept_and_restored(tmp_path, monkeypatch):
    gpus = FakeGpus(monkeypatch, 2)
    path = save_checkpoint({**payload(1), "rng": rng_state()}, tmp_path, 1, keep=1)
    saved = load_checkpoint(path)["rng"]  # weights_only, and every part checked
    assert [s.tolist() for s in saved["cuda"]] == [[10] * 16, [11] * 16]
    gpus.states = [torch.zeros(16, dtype=torch.uint8)] * 2  # the GPUs draw on
    set_rng_state(saved)
    assert [s.tolist() for s in gpus.states] == [[10] * 16, [11] * 16]


def test_a_process_that_never_used_cuda_does_not_start_it_to_save(monkeypatch):
    gpus = FakeGpus(monkeypatch, 2, initialized=False)
    assert "cuda" not in rng_state() and gpus.asked == 0


def test_rng_states_move_between_cpu_and_gpu_machines(tmp_path, monkeypatch):
    cpu_state = rng_state()
    assert "cuda" not in cpu_state  # this machine's tests run without CUDA
    with monkeypatch.context() as m:
        gpus = FakeGpus(m, 2)
        gpu_state = rng_state()
        # a CPU machine's checkpoint on a GPU machine: the GPUs keep their seeded states
        set_rng_state(cpu_state)
        assert [s.tolist() for s in gpus.states] == [[10] * 16, [11] * 16]
        # a two-GPU machine's checkpoint on a one-GPU machine: GPU 0 takes GPU 0's
        one = FakeGpus(m, 1)
        one.states = [torch.zeros(16, dtype=torch.uint8)]
        set_rng_state(gpu_state)
        assert [s.tolist() for s in one.states] == [[10] * 16]
    # a GPU machine's checkpoint on a CPU machine: it loads, the CPU's streams restore
    path = save_checkpoint({**payload(1), "rng": gpu_state}, tmp_path, 1, keep=1)
    set_rng_state(gpu_state)
    expected = torch.rand(2)
    set_rng_state(load_checkpoint(path)["rng"])
    torch.testing.assert_close(torch.rand(2), expected)


def test_a_gpu_machines_run_resumes_on_a_cpu_machine(tmp_path):
    from test_resume import FRAMES_PER_UPDATE, tiny

    from kungfu_rl.training.launch import resume, train

    run_dir = train(tiny(tmp_path, updates=4), progress=False).run_dir
    path = list_checkpoints(run_dir)[-1]
    saved = load_checkpoint(path)
    assert "cuda" not in saved["rng"]  # written on this CPU machine
    gpus = [torch.full((16,), k, dtype=torch.uint8) for k in range(2)]
    torch.save({**saved, "rng": {**saved["rng"], "cuda": gpus}}, path)  # as a GPU machine's
    result = resume(run_dir, {"frames": 6 * FRAMES_PER_UPDATE}, progress=False)
    assert result.updates == 6


@pytest.mark.parametrize(
    "cuda",
    ["not a list", [torch.zeros(16)], [torch.zeros((2, 8), dtype=torch.uint8)], [None]],
)
def test_a_damaged_gpu_rng_state_is_unreadable(tmp_path, cuda):
    rng = {**rng_state(), "cuda": cuda}
    path = save_checkpoint({**payload(1), "rng": rng}, tmp_path, 1, keep=1, name="odd.pt")
    with pytest.raises(CheckpointError, match="RNG state does not restore"):
        load_checkpoint(path)


def test_rotation_keeps_the_newest_by_the_update_inside_not_the_name(tmp_path):
    save_checkpoint(payload(2), tmp_path, 999, keep=3)  # update 2, named as if 999
    for update in (3, 4):
        save_checkpoint(payload(update), tmp_path, update, keep=2)
    names = [p.name for p in list_checkpoints(tmp_path)]
    assert names == ["update-000000003.pt", "update-000000004.pt"]
    path, newest, _ = load_newest(tmp_path)
    assert newest["update"] == 4 and path.name == "update-000000004.pt"


def test_an_unreadable_checkpoint_is_moved_aside_and_never_counted_as_kept(tmp_path, capsys):
    # the run a user lost: a file that does not load, named as the newest, and keep=1
    folder = tmp_path / "checkpoints"
    save_checkpoint(payload(1), tmp_path, 1, keep=1)
    (folder / "update-000000999.pt").write_bytes(b"not a checkpoint")
    save_checkpoint(payload(2), tmp_path, 2, keep=1)
    save_checkpoint(payload(3), tmp_path, 3, keep=1)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["update-000000003.pt"]
    assert (folder / "unreadable" / "update-000000999.pt").read_bytes() == b"not a checkpoint"
    warnings = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: moved update-000000999.pt")
    assert load_newest(tmp_path)[1]["update"] == 3


def test_a_frame_stacked_run_keeps_its_checkpoints(tmp_path):
    # its first convolution takes 4 channels: checked against its own settings, not one frame
    for update in (1, 2):
        save_checkpoint(payload(update, frame_stack=4), tmp_path, update, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == [
        "update-000000001.pt",
        "update-000000002.pt",
    ]
    assert load_newest(tmp_path)[1]["model"]["conv.0.weight"].shape[1] == 4
    bad = payload(3, frame_stack=4)
    bad["config"] = Config(hidden=16, channels=8, frame_stack=2).to_json()
    torch.save(bad, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"conv\.0\.weight has shape"):
        load_checkpoint(tmp_path / "other.pt")


def test_an_84_frame_runs_checkpoints_are_kept_and_a_42_frame_config_does_not_fit_them(tmp_path):
    save_checkpoint(payload(1, frame_size=84), tmp_path, 1, keep=2)
    assert load_newest(tmp_path)[1]["model"]["conv.0.weight"].shape[1] == 4
    bad = payload(2, frame_size=84)
    bad["config"] = Config(hidden=16, channels=8).to_json()
    torch.save(bad, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"conv\.0\.weight has shape"):
        load_checkpoint(tmp_path / "other.pt")


def test_a_checkpoint_that_does_not_fit_its_own_settings_is_unreadable(tmp_path):
    bad = payload(5)
    bad["config"] = Config(hidden=32, channels=8).to_json()  # weights of hidden=16
    path = tmp_path / "other.pt"
    torch.save(bad, path)
    with pytest.raises(CheckpointError, match="does not fit its own network settings"):
        load_checkpoint(path)
