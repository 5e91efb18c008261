"""`benchmarks/suite.py --extend RUN`: a finished shorter run of the same settings, copied
and trained on to --frames, only where that is the run a straight one would be."""

import argparse
import json
import sys
from pathlib import Path

import pytest

from benchmarks import suite
from kungfu_rl.config import Config


def _finished_run(folder: Path, **settings) -> Path:
    """A run folder as the trainer leaves it: config.json, a checkpoint, a final record."""
    folder.mkdir(parents=True)
    config = Config.from_preset(**{"game": "Pong", "run_name": folder.name, **settings})
    (folder / "config.json").write_text(config.to_json())
    (folder / "update_000000010.pt").write_bytes(b"a checkpoint")
    (folder / "eval-final-000000010.json").write_text(json.dumps({"frames": config.frames}))
    (folder / "eval-20261201.json").write_text(json.dumps({"frames": config.frames}))
    (folder / "videos" / "final-000000010").mkdir(parents=True)
    return folder


def _args(frames: int, train_args: list[str], seed: int = 0, extend: Path | None = None):
    """The suite's arguments for a Pong run of the notebook's agent (`--preset none`, as the
    finished runs above were trained) with `train_args`."""
    train_args = ["--preset", "none", *train_args]
    return argparse.Namespace(frames=frames, train_args=train_args, seed=seed, extend=extend)


SCHEDULED = ["--lr-schedule", "linear", "--lr-decay-frames", "40000000"]


def test_a_run_whose_rate_follows_the_longer_schedule_is_extendable(tmp_path):
    base = _finished_run(
        tmp_path / "short", frames=10_000_000, lr_schedule="linear", lr_decay_frames=40_000_000
    )
    suite.check_extendable(base, "Pong", _args(40_000_000, SCHEDULED))
    constant = _finished_run(tmp_path / "constant", frames=10_000_000)
    suite.check_extendable(constant, "Pong", _args(40_000_000, []))


@pytest.mark.parametrize(
    ("settings", "args", "why"),
    [
        # the rate fell to 0 at the short run's own budget: a longer run is another run
        ({"lr_schedule": "linear"}, _args(40_000_000, ["--lr-schedule", "linear"]), "fell to 0"),
        ({}, _args(40_000_000, ["--lr", "1e-3"]), r"other settings \(lr: "),
        ({}, _args(40_000_000, [], seed=3), r"other settings \(seed: 0, 3\)"),
        ({}, _args(10_000_000, []), "not fewer than --frames 10,000,000"),
    ],
)
def test_extend_refuses_a_run_that_is_not_the_longer_one_begun(tmp_path, settings, args, why):
    base = _finished_run(tmp_path / "short", frames=10_000_000, **settings)
    with pytest.raises(SystemExit, match=why):
        suite.check_extendable(base, "Pong", args)


def test_extend_refuses_an_unfinished_run(tmp_path):
    base = _finished_run(tmp_path / "short", frames=10_000_000)
    (base / "eval-final-000000010.json").unlink()
    with pytest.raises(SystemExit, match="no finished run there"):
        suite.check_extendable(base, "Pong", _args(40_000_000, []))


class _Done:
    def wait(self) -> int:
        return 0


def test_extend_copies_the_run_less_its_final_evaluation_and_resumes_it(tmp_path, monkeypatch):
    base = _finished_run(tmp_path / "short", frames=10_000_000)
    run = tmp_path / "long"
    started = []
    monkeypatch.setattr(suite, "start_training", lambda *a, **k: started.append(a) or _Done())
    suite.extend(base, run, _args(40_000_000, []))
    assert (run / "update_000000010.pt").read_bytes() == b"a checkpoint"
    assert (run / "eval-20261201.json").exists()  # scored at 10M: kept, matched by frames
    assert not list(run.glob("eval-final-*")) and not (run / "videos" / "final-000000010").exists()
    assert (base / "eval-final-000000010.json").exists()  # the short run stays as it was
    cmd, log = started[0]
    assert cmd[-5:] == ["--resume", str(run), "--frames", "40000000", "--no-progress"]
    assert log == tmp_path / "long.log"
    # after a stop the copy is resumed as it is, not copied again
    (run / "update_000000020.pt").write_bytes(b"further")
    suite.extend(base, run, _args(40_000_000, []))
    assert (run / "update_000000020.pt").exists() and len(started) == 2


@pytest.mark.parametrize(
    "extra", [["--games", "Pong", "Qbert"], ["--games", "Pong", "--adopt", "runs/x"]]
)
def test_extend_takes_one_game_and_not_adopt_beside_it(extra, monkeypatch, capsys):
    argv = ["suite.py", "--tag", "x", "--extend", "runs/short", *extra]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(suite, "train_and_score", lambda *a: pytest.fail("it trained"))
    with pytest.raises(SystemExit) as stopped:
        suite.main()
    assert stopped.value.code == 2
    assert "--extend" in capsys.readouterr().err


def test_the_suite_page_names_the_run_an_extended_one_began_as():
    from benchmarks.render import suite_page
    from tests.test_benchmark_renderers import _suite_result

    long = _suite_result("Pong", 40_000_000, 18.0, tag="atari")
    long["extended_from"] = "runs/suite-atari-Pong-10M-seed0"
    page = suite_page.build_doc([long])
    assert "(the run runs/suite-atari-Pong-10M-seed0, trained on); load " in page


def test_an_extended_runs_resumes_tell_its_own_stops_from_where_it_was_trained_on():
    # the shorter run stopped once (8.7M); the copy was trained on at 10M and stopped at 23M
    split = suite.split_resumes([8_736_768, 10_002_432, 23_003_136], [8_736_768])
    assert split == {"extended_at_frames": 10_002_432, "resumed_at_frames": [8_736_768, 23_003_136]}
    # a copy whose config.json lost the record says no extension point and invents no resume
    assert suite.split_resumes([], [8_736_768]) == {
        "extended_at_frames": None,
        "resumed_at_frames": [],
    }
