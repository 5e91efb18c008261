"""What a newcomer meets: a command line that talks, names what it plays, and ends quietly."""

import io
import json
import math
import re
import shutil
import subprocess
import sys

import imageio.v3 as iio
import pytest
import torch
from PIL import Image, ImageSequence
from test_cli import kungfu

from kungfu_rl import Config, train
from kungfu_rl.runs.metrics import frames_per_second
from kungfu_rl.training.progress import Progress


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run trained by `kungfu train` without a terminal, and what it printed."""
    runs = tmp_path_factory.mktemp("runs")
    flags = "--frames 1024 --n-games 4 --rollout-len 8 --eval-every 4 --eval-games 1"
    result = kungfu("train", *flags.split(), "--runs-dir", runs, "--run-name", "t", "--seed", 2)
    assert result.returncode == 0, result.stderr
    return runs / "t", result


def test_training_says_where_it_writes_and_announces_its_evaluations(trained):
    run_dir, result = trained
    lines = result.stderr.splitlines()
    assert lines[0] == f"training in {run_dir} (watch it live: tensorboard --logdir {run_dir})"
    announced = [line for line in lines if line.startswith("evaluating on 1 full games at")]
    scored = [line for line in lines if line.startswith("evaluation at ")]
    assert len(announced) == len(scored) == 2  # at update 4, and the final one at update 8
    assert all(" mean " in line for line in scored)
    assert "Traceback" not in result.stderr and "A.L.E" not in result.stderr  # no banner


def test_a_run_names_its_folder_on_its_first_line_and_its_last(trained, tmp_path):
    run_dir, result = trained
    assert str(run_dir) in result.stderr.splitlines()[0]
    last = f"run folder: {run_dir} (report: {run_dir / 'report.html'})"
    assert result.stdout.splitlines()[-1] == last
    # resumed, past a checkpoint that does not read: the folder still comes first
    copy = tmp_path / "t"
    shutil.copytree(run_dir, copy)
    (copy / "checkpoints" / "update-000000099.pt").write_bytes(b"cut")
    resumed = kungfu("train", "--resume", copy, "--frames", 1280, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.splitlines()[0].startswith(f"resuming {copy} from update-000000008.pt")
    assert resumed.stdout.splitlines()[-1].startswith(f"run folder: {copy} (report: ")


def test_config_json_records_what_was_used_and_no_display_setting(trained):
    run_dir, _ = trained
    config = json.loads((run_dir / "config.json").read_text())
    assert "progress" not in config
    assert config["device"] == "cpu" and config["precision"] in ("fp32", "bf16")


def test_one_frames_per_second_figure(trained):
    """The last line's frames/s is the report's: frames over the run's wall clock."""
    run_dir, result = trained
    last = next(line for line in result.stdout.splitlines() if "frames/s" in line)
    said = float(last.split("(")[1].split(" frames/s")[0].replace(",", ""))
    page = (run_dir / "report.html").read_text()
    assert abs(said - _report_fps(page)) <= 0.5  # the line rounds to whole frames/s


def _report_fps(page: str) -> float:
    card = page.split("frames/s<b>")[1].split("</b>")[0]
    return float(card.replace(",", ""))


def test_plain_progress_lines_without_a_terminal():
    out = io.StringIO()  # not a terminal
    progress = Progress(total=1000, initial=0, every_s=0, stream=out)
    assert not progress.bar_mode
    progress.update(250, score="12")
    progress.say("evaluating on 5 full games")
    progress.update(2000)  # past the budget: shown as the budget, never more
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("0k of 1k frames (25%)") and "score 12" in lines[0]
    assert lines[1] == "evaluating on 5 full games"
    assert lines[2].startswith("1k of 1k frames (100%)")


def test_the_bar_shows_the_one_frames_per_second():
    out = io.StringIO()
    progress = Progress(total=10_000, initial=0, bar=True, stream=out)
    progress.update(5_000, score="3")
    progress.close()
    shown = out.getvalue()
    assert "frames/s=" in shown and "score=3" in shown
    assert "frame/s" not in shown  # tqdm's own rate is left out
    assert frames_per_second(1000, 4.0) == 250 and math.isnan(frames_per_second(10, 0))


def test_eval_names_its_checkpoint_plays_best_greedy_and_shows_progress(trained):
    run_dir, _ = trained
    result = kungfu("eval", run_dir, "--best", "--greedy", "--games", 2, "--seed", 3)
    assert result.returncode == 0, result.stderr
    err = result.stderr.splitlines()
    assert err[0].startswith(f"playing {run_dir / 'checkpoints' / 'best.pt'}")
    assert err[1].startswith("game 1/2: ") and err[2].startswith("game 2/2: ")
    record = json.loads(sorted(run_dir.glob("eval-2*.json"))[-1].read_text())
    assert record["greedy"] is True and record["checkpoint"].endswith("best.pt")
    # without --best: the newest checkpoint, named
    result = kungfu("eval", run_dir, "--games", 1)
    assert "update-000000008.pt" in result.stderr.splitlines()[0]


def test_eval_writes_every_score_and_statistic_one_way(trained):
    run_dir, _ = trained
    result = kungfu("eval", run_dir, "--games", 2, "--seed", 5)
    assert result.returncode == 0, result.stderr
    games = [line for line in result.stderr.splitlines() if line.startswith("game ")]
    summary = result.stdout.splitlines()[0]
    shown = [line.split(": ")[1].split(" (")[0] for line in games]
    shown += re.findall(r"(?:mean|median|min|max) (\S+)", summary)
    assert len(shown) == 6, (games, summary)
    assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*\.\d", x) for x in shown), shown


def test_watch_writes_an_mp4_and_a_gif_and_prints_the_score(trained, tmp_path):
    run_dir, _ = trained
    out = tmp_path / "watch"
    result = kungfu("watch", run_dir, "--out", out, "--seed", 1, "--gif-seconds", 8)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("game 1: score ")
    gif = Image.open(out / "game-00.gif")
    durations = [frame.info["duration"] for frame in ImageSequence.Iterator(gif)]
    assert gif.size == (160, 210) and gif.info["loop"] == 0
    # 8 s of play: 120 agent steps, each a frame; GIF delays are whole 10 ms: 66.7 ms -> 70
    assert durations == [70] * 120
    frames = iio.imread(out / "game-00.mp4", index=None)
    assert frames.shape[0] > 8 * 15 and frames.shape[1:] == (420, 320, 3)  # the whole game


def test_version_hints_and_a_broken_pipe():
    result = kungfu("--version")
    assert result.returncode == 0 and result.stdout.startswith("kungfu_rl ")
    result = kungfu("train", "--env-id", "Pong", "--total-timesteps", "100", "--num-envs", "2")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "--env-id is --game here" in line and "--num-envs is --n-games here" in line
    assert "--total-timesteps is --frames" in line
    games = subprocess.Popen(
        [sys.executable, "-m", "kungfu_rl", "games"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    games.stdout.close()  # the reader goes away at once, as `| head -0` would
    err = games.stderr.read()
    assert games.wait(timeout=60) == 0 and err == b""


def test_train_from_python_gives_back_the_thread_count(tmp_path):
    torch.set_num_threads(1)
    config = Config(
        frames=256, n_games=2, rollout_len=8, eval_every=0, torch_threads=2, runs_dir=str(tmp_path)
    )
    train(config, progress=False)
    assert torch.get_num_threads() == 1


def test_eval_pretrained_works_like_any_run_and_keeps_every_record(tmp_path):
    for _ in range(2):
        result = kungfu("eval", "pretrained", "--games", 1, "--seed", 7, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("playing ") and "KungFuMaster.pt" in result.stderr
    records = sorted((tmp_path / "runs" / "pretrained").glob("eval-*.json"))
    assert len(records) == 2
    first, second = (json.loads(p.read_text()) for p in records)
    assert first["scores"] == second["scores"]  # seeded: the same game twice


def test_two_eval_records_in_one_second_get_two_names(tmp_path, monkeypatch):
    import datetime as dt

    from kungfu_rl.cli import play as cli

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 30, 7, 0, 0)

    monkeypatch.setattr(cli, "datetime", Frozen)
    first = cli._new_stamp(tmp_path)
    (tmp_path / f"eval-{first}.json").write_text("{}")
    second = cli._new_stamp(tmp_path)
    assert first == "20261130-070000" and second == "20261130-070000-2"
